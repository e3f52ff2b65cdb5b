package credential

import (
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Verify reports whether password matches the stored hash encoded.
//
// encoded is either an Argon2id PHC string made by Hash, a bcrypt string
// ($2a$, $2b$ or $2y$), or a string made by ImportedHash.Encode. needsRehash is
// meaningful only when ok is true: it is true for every scheme other than
// Argon2id and for Argon2id hashes whose parameters are weaker than (or use a
// different thread count from) the Hasher's, and tells the caller to store
// Hash(password) in place of encoded.
//
// A wrong password is ok == false with a nil error; err is set only for a
// password over MaxPasswordBytes, a stored hash that cannot be parsed, or a
// context that ended while waiting for a hashing slot.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, ErrPasswordTooLong
	}
	v, err := parseStored(encoded)
	if err != nil {
		return false, false, err
	}
	s, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer h.release(s)
	ok, err = v.verify(password)
	if err != nil || !ok {
		return false, false, err
	}
	return true, v.needsRehash(h.params), nil
}

// storedHash is a parsed stored password hash of any supported scheme.
type storedHash interface {
	verify(password string) (bool, error)
	needsRehash(current Params) bool
}

func parseStored(encoded string) (storedHash, error) {
	if !strings.HasPrefix(encoded, "$") {
		return nil, ErrUnknownScheme
	}
	scheme, _, _ := strings.Cut(encoded[1:], "$")
	switch scheme {
	case "argon2id":
		a, err := parseArgon2id(encoded)
		if err != nil {
			return nil, err
		}
		return a, nil
	case "2a", "2b", "2y":
		return parseBcrypt(encoded)
	case "sha1", "sha256", "sha512", "md5":
		return parseDigest(encoded)
	case "pbkdf2-sha256", "pbkdf2-sha512":
		return parsePBKDF2(encoded)
	}
	return nil, ErrUnknownScheme
}

func (a argon2Hash) verify(password string) (bool, error) {
	key := argon2.IDKey([]byte(password), a.salt, a.params.Time, a.params.Memory, a.params.Threads, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}

func (a argon2Hash) needsRehash(current Params) bool { return a.params.weakerThan(current) }

// bcryptHash is a stored bcrypt string, verified by x/crypto/bcrypt (which
// compares in constant time). Like the C implementations it reads only the
// first 72 bytes of the password.
type bcryptHash struct{ encoded []byte }

// bcrypt's radix-64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func parseBcrypt(s string) (bcryptHash, error) {
	// $2a$10$ + 22 salt + 31 hash = 60 bytes
	if len(s) != 60 || s[3] != '$' || s[6] != '$' {
		return bcryptHash{}, fmt.Errorf("%w: bcrypt: wrong length or layout", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || cost < bcrypt.MinCost || cost > maxBcryptCost {
		return bcryptHash{}, fmt.Errorf("%w: bcrypt: cost %q out of range", ErrMalformedHash, s[4:6])
	}
	if !allIn(s[7:], bcryptAlphabet) {
		return bcryptHash{}, fmt.Errorf("%w: bcrypt: invalid character", ErrMalformedHash)
	}
	return bcryptHash{encoded: []byte(s)}, nil
}

func (b bcryptHash) verify(password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword(b.encoded, []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
}

func (bcryptHash) needsRehash(Params) bool { return true }

// digestHash is an unsalted or salted single-pass digest imported from Okta's
// SHA-512, SHA-256, SHA-1 or MD5 formats.
type digestHash struct {
	newHash   func() hash.Hash
	saltFirst bool // salt + password (PREFIX) rather than password + salt (POSTFIX)
	salt      []byte
	digest    []byte
}

// digestScheme returns the hash function and digest size of a digest scheme
// name as used in stored strings.
func digestScheme(scheme string) (func() hash.Hash, int) {
	switch scheme {
	case "sha1":
		return sha1.New, sha1.Size
	case "sha256":
		return sha256.New, sha256.Size
	case "sha512":
		return sha512.New, sha512.Size
	case "md5":
		return md5.New, md5.Size
	}
	return nil, 0
}

func parseDigest(s string) (digestHash, error) {
	parts := strings.Split(s, "$")
	scheme := parts[1]
	newHash, size := digestScheme(scheme)
	d := digestHash{newHash: newHash}
	var digest string
	switch len(parts) {
	case 3: // $sha256$<digest>
		digest = parts[2]
	case 5: // $sha256$o=prefix$<salt>$<digest>
		switch parts[2] {
		case "o=prefix":
			d.saltFirst = true
		case "o=postfix":
		default:
			return digestHash{}, fmt.Errorf("%w: %s: salt order %q", ErrMalformedHash, scheme, parts[2])
		}
		salt, err := b64.DecodeString(parts[3])
		if err != nil || len(salt) == 0 {
			return digestHash{}, fmt.Errorf("%w: %s: salt", ErrMalformedHash, scheme)
		}
		d.salt = salt
		digest = parts[4]
	default:
		return digestHash{}, fmt.Errorf("%w: %s: wrong number of fields", ErrMalformedHash, scheme)
	}
	sum, err := b64.DecodeString(digest)
	if err != nil || len(sum) != size {
		return digestHash{}, fmt.Errorf("%w: %s: digest", ErrMalformedHash, scheme)
	}
	d.digest = sum
	return d, nil
}

func (d digestHash) verify(password string) (bool, error) {
	h := d.newHash()
	if d.saltFirst {
		h.Write(d.salt)
		h.Write([]byte(password))
	} else {
		h.Write([]byte(password))
		h.Write(d.salt)
	}
	return subtle.ConstantTimeCompare(h.Sum(nil), d.digest) == 1, nil
}

func (digestHash) needsRehash(Params) bool { return true }

// pbkdf2Hash is a PBKDF2-HMAC-SHA256 or -SHA512 hash imported from Okta's
// PBKDF2 format.
type pbkdf2Hash struct {
	newHash    func() hash.Hash
	iterations int
	salt       []byte
	key        []byte
}

func parsePBKDF2(s string) (pbkdf2Hash, error) {
	// $pbkdf2-sha256$i=4096$<salt>$<key>
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return pbkdf2Hash{}, fmt.Errorf("%w: pbkdf2: wrong number of fields", ErrMalformedHash)
	}
	p := pbkdf2Hash{newHash: sha256.New}
	if parts[1] == "pbkdf2-sha512" {
		p.newHash = sha512.New
	}
	n, err := strconv.Atoi(strings.TrimPrefix(parts[2], "i="))
	if !strings.HasPrefix(parts[2], "i=") || err != nil || n < minPBKDF2Iterations || n > maxPBKDF2Iterations {
		return pbkdf2Hash{}, fmt.Errorf("%w: pbkdf2: iterations %q", ErrMalformedHash, parts[2])
	}
	p.iterations = n
	if p.salt, err = b64.DecodeString(parts[3]); err != nil || len(p.salt) == 0 {
		return pbkdf2Hash{}, fmt.Errorf("%w: pbkdf2: salt", ErrMalformedHash)
	}
	if p.key, err = b64.DecodeString(parts[4]); err != nil || len(p.key) < minPBKDF2KeySize || len(p.key) > maxPBKDF2KeySize {
		return pbkdf2Hash{}, fmt.Errorf("%w: pbkdf2: key", ErrMalformedHash)
	}
	return p, nil
}

func (p pbkdf2Hash) verify(password string) (bool, error) {
	key, err := pbkdf2.Key(p.newHash, password, p.salt, p.iterations, len(p.key))
	if err != nil {
		return false, fmt.Errorf("credential: pbkdf2: %w", err)
	}
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

func (pbkdf2Hash) needsRehash(Params) bool { return true }

func allIn(s, alphabet string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}
