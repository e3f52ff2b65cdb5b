// Package ids makes opaque, non-sequential identifiers in Okta's style: a
// three-character type prefix followed by random base-62 characters, twenty
// characters in all (for example 00u1a2b3c4d5e6f7g8h9 for a user).
package ids

import (
	"crypto/rand"
	"io"
)

// Prefixes of the object types Gatehouse names.
const (
	User     = "00u"
	Group    = "00g"
	App      = "0oa"
	Token    = "00T"
	Session  = "102"
	Event    = "evt"
	Key      = "kid"
	IdP      = "0oi"
	Factor   = "mfa"
	Job      = "job"
	Policy   = "00p"
	Rule     = "0pr"
	Instance = "exk"
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
