// Package ids makes opaque, non-sequential identifiers in Okta's style: a
// three-character type prefix followed by random base-62 characters, twenty
// characters in all (for example 00u1a2b3c4d5e6f7g8h9 for a user). User
// identifiers (NewOrdered) start with the second they were made, so that
// the indexes on them stay compact; the rest is random.
package ids

import (
	"crypto/rand"
	"io"
	"time"
)

// Prefixes of the object types Gatehouse names.
const (
	User    = "00u"
	Group   = "00g"
	App     = "0oa"
	Token   = "00T"
	Session = "102"
	Event   = "evt"
	Key     = "kid"
	IdP     = "0oi"
	// Factors, by kind, in the style of Okta's ids (Okta Verify TOTP,
	// Google Authenticator, WebAuthn).
	FactorTOTP     = "ost"
	FactorGoogle   = "uft"
	FactorWebAuthn = "fwf"
	Job            = "job"
	Policy         = "00p"
	Rule           = "0pr"
	Instance       = "exk"
	EventHook      = "who"
	TrustedOrigin  = "tos"
)

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Length is the length of every identifier.
const Length = 20

// Source makes identifiers from a source of randomness.
type Source struct{ r io.Reader }

// NewSource returns a Source reading from r; nil means crypto/rand.
func NewSource(r io.Reader) *Source {
	if r == nil {
		r = rand.Reader
	}
	return &Source{r: r}
}

// New returns a fresh identifier with the given prefix.
func (s *Source) New(prefix string) string {
	n := Length - len(prefix)
	buf := make([]byte, n)
	out := make([]byte, 0, Length)
	out = append(out, prefix...)
	// Rejection sampling keeps the distribution uniform over the alphabet.
	for len(out) < Length {
		if _, err := io.ReadFull(s.r, buf); err != nil {
			panic("ids: randomness source failed: " + err.Error())
		}
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62
				continue
			}
			out = append(out, alphabet[int(b)%62])
			if len(out) == Length {
				break
			}
		}
	}
	return string(out)
}

// epoch is the origin of the time part of ordered identifiers.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	timeDigits = 6 // base 36: seconds since epoch, until 2089
	base36     = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// NewOrdered returns a fresh identifier whose first characters after the
// prefix are the second it was made (base 36, so that byte order and the
// usual text collations agree with time order), followed by random base-62
// characters (11 for a three-character prefix, about 65 bits). Identifiers
// made in one second are in random order among themselves, so they are
// still not sequential and not guessable, but the B-tree indexes on them
// grow at their right edge instead of at random pages: with a million
// users that is the difference between one dirty index page per insert and
// one per hundred. Valid accepts them like any other identifier.
func (s *Source) NewOrdered(prefix string, at time.Time) string {
	sec := at.Sub(epoch) / time.Second
	if sec < 0 {
		sec = 0
	}
	var t [timeDigits]byte
	for i := timeDigits - 1; i >= 0; i-- {
		t[i] = base36[sec%36]
		sec /= 36
	}
	return prefix + string(t[:]) + s.New(prefix)[len(prefix)+timeDigits:]
}

// Secret returns n random bytes encoded in base 62, for tokens.
func (s *Source) Secret(n int) string {
	buf := make([]byte, 0, n)
	tmp := make([]byte, n)
	for len(buf) < n {
		if _, err := io.ReadFull(s.r, tmp); err != nil {
			panic("ids: randomness source failed: " + err.Error())
		}
		for _, b := range tmp {
			if b >= 248 {
				continue
			}
			buf = append(buf, alphabet[int(b)%62])
			if len(buf) == n {
				break
			}
		}
	}
	return string(buf)
}

// Valid reports whether id looks like an identifier with the given prefix.
func Valid(id, prefix string) bool {
	if len(id) != Length || id[:len(prefix)] != prefix {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
