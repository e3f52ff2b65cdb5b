package credential

import (
	"errors"
	"testing"
)

// FuzzParseStored checks that no stored string makes the parser panic and
// that every parse failure is one of the documented errors.
func FuzzParseStored(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$md5$X03MO1qnZdYdgyfeuILPmQ",
		"$sha1$o=prefix$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha512$i=10000$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=,t=,p=$$", "$$$$", "$2a$", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseStored(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownScheme) && !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parseStored(%q) error %v is not a documented error", s, err)
			}
			return
		}
		// Verifying argon2id could be expensive for large (but in-bounds)
		// parameters; check the cheap schemes only.
		if _, isArgon := v.(argon2Hash); isArgon {
			return
		}
		if b, isBcrypt := v.(bcryptHash); isBcrypt && b.encoded[5] > '5' {
			return
		}
		if p, isPBKDF2 := v.(pbkdf2Hash); isPBKDF2 && p.iterations > 20000 {
			return
		}
		if _, err := v.verify("password"); err != nil && !errors.Is(err, ErrMalformedHash) {
			t.Fatalf("verify on %q: %v", s, err)
		}
	})
}

// FuzzImportedHash checks that Encode never panics and that whatever it
// accepts, Verify can parse.
func FuzzImportedHash(f *testing.F) {
	f.Add("BCRYPT", 10, "CCCCCCCCCCCCCCCCCCCCC.", "", "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 0, "", 0)
	f.Add("SHA-256", 0, "c2FsdA==", "PREFIX", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, "", 0)
	f.Add("MD5", 0, "", "", "X03MO1qnZdYdgyfeuILPmQ==", 0, "", 0)
	f.Add("PBKDF2", 0, "c2FsdA", "", "AAAAAAAAAAAAAAAAAAAAAA", 4096, "SHA256_HMAC", 16)
	f.Fuzz(func(t *testing.T, alg string, wf int, salt, order, value string, iter int, digest string, keySize int) {
		h := ImportedHash{Algorithm: alg, WorkFactor: wf, Salt: salt, SaltOrder: order, Value: value,
			Iterations: iter, DigestAlgorithm: digest, KeySize: keySize}
		enc, err := h.Encode()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("Encode error %v is not a field list", err)
			}
			return
		}
		if _, err := parseStored(enc); err != nil {
			t.Fatalf("Encode(%+v) = %q, which does not parse: %v", h, enc, err)
		}
	})
}
