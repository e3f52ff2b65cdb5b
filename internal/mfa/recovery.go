package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a person gets at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet has 32 letters and digits, so each character carries 5
// bits; a 16-character code carries 80 bits, out of reach of an offline
// search of its SHA-256 hash.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

const recoveryLength = 16

func newRecoveryCode() string {
	raw := make([]byte, recoveryLength)
	if _, err := rand.Read(raw); err != nil {
		panic("mfa: randomness source failed: " + err.Error())
	}
	var b strings.Builder
	for i, c := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
	}
	return b.String()
}

// normalizeRecoveryCode keeps a typed code's letters and digits, lower-cased.
func normalizeRecoveryCode(code string) (string, bool) {
	c := strings.ToLower(NormalizeCode(code))
	if len(c) != recoveryLength {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if !strings.ContainsRune(recoveryAlphabet, rune(c[i])) {
			return "", false
		}
	}
	return c, true
}

// recoveryHash is how a recovery code is stored: bound to its person, so a
// hash copied to another person's row matches nothing.
func recoveryHash(userID, normalized string) string {
	h := sha256.New()
	h.Write([]byte("gatehouse recovery code\x00"))
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(normalized))
	return hex.EncodeToString(h.Sum(nil))
}
