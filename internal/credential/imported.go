package credential

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
)

// Algorithm names accepted in ImportedHash.Algorithm, spelled as in Okta's
// Users API (credentials.password.hash.algorithm).
const (
	AlgorithmBcrypt = "BCRYPT"
	AlgorithmSHA512 = "SHA-512"
	AlgorithmSHA256 = "SHA-256"
	AlgorithmSHA1   = "SHA-1"
	AlgorithmMD5    = "MD5"
	AlgorithmPBKDF2 = "PBKDF2"
)

// Salt orders for salted SHA and MD5 imports.
const (
	SaltPrefix  = "PREFIX"  // the salt was put before the password
	SaltPostfix = "POSTFIX" // the salt was put after the password
)

// Digest algorithms for PBKDF2 imports.
const (
	DigestSHA256HMAC = "SHA256_HMAC"
	DigestSHA512HMAC = "SHA512_HMAC"
)

// Limits on imported hashes. Okta documents workFactor 1–20 and PBKDF2
// iterationCount >= 4096; bcrypt itself needs a cost of at least 4, and the
// upper PBKDF2 bound keeps one sign-in under about a second of CPU.
const (
	minBcryptCost       = 4
	maxBcryptCost       = 20
	minPBKDF2Iterations = 4096
	maxPBKDF2Iterations = 10_000_000
	minPBKDF2KeySize    = 16
	maxPBKDF2KeySize    = 128
	bcryptSaltLen       = 22
	bcryptValueLen      = 31
)

// ImportedHash is a password hash made by another system, in the shape of
// Okta's credentials.password.hash object. The JSON names match Okta's.
//
//   - BCRYPT: WorkFactor, Salt (the 22 radix-64 characters after "$2a$NN$")
//     and Value (the remaining 31 characters). Okta splits the bcrypt string;
//     Encode joins it again.
//   - SHA-512, SHA-256, SHA-1, MD5: Value is the base64 digest of the password
//     with the base64-decoded Salt (optional) put before it (SaltOrder PREFIX)
//     or after it (POSTFIX).
//   - PBKDF2: Iterations, DigestAlgorithm (SHA256_HMAC or SHA512_HMAC),
//     KeySize in bytes, base64 Salt and base64 Value (the derived key).
//
// MD5 and SHA-1 are accepted, as Okta accepts them, only so that users can be
// migrated: Verify reports needsRehash for every imported hash and the caller
// replaces it with Argon2id at the first successful sign-in.
type ImportedHash struct {
	Algorithm       string `json:"algorithm"`
	WorkFactor      int    `json:"workFactor,omitempty"`
	Salt            string `json:"salt,omitempty"`
	SaltOrder       string `json:"saltOrder,omitempty"`
	Value           string `json:"value"`
	Iterations      int    `json:"iterationCount,omitempty"`
	DigestAlgorithm string `json:"digestAlgorithm,omitempty"`
	KeySize         int    `json:"keySize,omitempty"`
}

// FieldError is one invalid field of an ImportedHash. Field is the JSON name.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every invalid field of an ImportedHash.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return "credential: invalid password hash: " + strings.Join(msgs, "; ")
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Validate checks the fields that h.Algorithm needs and returns a
// *ValidationError naming each invalid one, or nil.
func (h ImportedHash) Validate() error {
	_, err := h.encode()
	return err
}

// Encode validates h and returns the stored form that Verify understands:
//
//	BCRYPT            $2a$NN$<salt><value>
//	SHA-256 unsalted  $sha256$<digest>
//	SHA-256 salted    $sha256$o=prefix$<salt>$<digest>   (o=postfix likewise)
//	PBKDF2            $pbkdf2-sha256$i=<iterations>$<salt>$<key>
//
// (sha512, sha1, md5 and pbkdf2-sha512 likewise), with salts and digests in
// unpadded standard base64.
func (h ImportedHash) Encode() (string, error) {
	return h.encode()
}

func (h ImportedHash) encode() (string, error) {
	var ve ValidationError
	var out string
	switch h.Algorithm {
	case AlgorithmBcrypt:
		out = h.encodeBcrypt(&ve)
	case AlgorithmSHA512, AlgorithmSHA256, AlgorithmSHA1, AlgorithmMD5:
		out = h.encodeDigest(&ve)
	case AlgorithmPBKDF2:
		out = h.encodePBKDF2(&ve)
	case "":
		ve.add("algorithm", "is required")
	default:
		ve.add("algorithm", "must be one of BCRYPT, SHA-512, SHA-256, SHA-1, MD5, PBKDF2")
	}
	if len(ve.Fields) > 0 {
		return "", &ve
	}
	return out, nil
}

func (h ImportedHash) encodeBcrypt(ve *ValidationError) string {
	if h.WorkFactor < minBcryptCost || h.WorkFactor > maxBcryptCost {
		ve.add("workFactor", "must be between %d and %d", minBcryptCost, maxBcryptCost)
	}
	if len(h.Salt) != bcryptSaltLen || !allIn(h.Salt, bcryptAlphabet) {
		ve.add("salt", "must be %d bcrypt radix-64 characters", bcryptSaltLen)
	}
	if len(h.Value) != bcryptValueLen || !allIn(h.Value, bcryptAlphabet) {
		ve.add("value", "must be %d bcrypt radix-64 characters", bcryptValueLen)
	}
	return fmt.Sprintf("$2a$%02d$%s%s", h.WorkFactor, h.Salt, h.Value)
}

func (h ImportedHash) encodeDigest(ve *ValidationError) string {
	var scheme string
	var size int
	switch h.Algorithm {
	case AlgorithmSHA512:
		scheme, size = "sha512", sha512.Size
	case AlgorithmSHA256:
		scheme, size = "sha256", sha256.Size
	case AlgorithmSHA1:
		scheme, size = "sha1", sha1.Size
	case AlgorithmMD5:
		scheme, size = "md5", md5.Size
	}
	digest, err := decodeBase64(h.Value)
	if h.Value == "" {
		ve.add("value", "is required")
	} else if err != nil || len(digest) != size {
		ve.add("value", "must be the base64 encoding of a %d-byte %s digest", size, h.Algorithm)
	}
	if h.Salt == "" {
		return "$" + scheme + "$" + b64.EncodeToString(digest)
	}
	salt, err := decodeBase64(h.Salt)
	if err != nil || len(salt) == 0 {
		ve.add("salt", "must be base64")
	}
	var order string
	switch h.SaltOrder {
	case SaltPrefix:
		order = "prefix"
	case SaltPostfix:
		order = "postfix"
	default:
		ve.add("saltOrder", "must be PREFIX or POSTFIX for a salted hash")
	}
	return "$" + scheme + "$o=" + order + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(digest)
}

func (h ImportedHash) encodePBKDF2(ve *ValidationError) string {
	var scheme string
	switch h.DigestAlgorithm {
	case DigestSHA256HMAC:
		scheme = "pbkdf2-sha256"
	case DigestSHA512HMAC:
		scheme = "pbkdf2-sha512"
	case "":
		ve.add("digestAlgorithm", "is required for PBKDF2")
	default:
		ve.add("digestAlgorithm", "must be SHA256_HMAC or SHA512_HMAC")
	}
	if h.Iterations < minPBKDF2Iterations || h.Iterations > maxPBKDF2Iterations {
		ve.add("iterationCount", "must be between %d and %d", minPBKDF2Iterations, maxPBKDF2Iterations)
	}
	keySizeOK := h.KeySize >= minPBKDF2KeySize && h.KeySize <= maxPBKDF2KeySize
	if !keySizeOK {
		ve.add("keySize", "must be between %d and %d bytes", minPBKDF2KeySize, maxPBKDF2KeySize)
	}
	salt, err := decodeBase64(h.Salt)
	if h.Salt == "" || err != nil || len(salt) == 0 {
		ve.add("salt", "must be base64 and is required for PBKDF2")
	}
	key, err := decodeBase64(h.Value)
	switch {
	case h.Value == "":
		ve.add("value", "is required")
	case err != nil:
		ve.add("value", "must be base64")
	case keySizeOK && len(key) != h.KeySize:
		ve.add("value", "must decode to keySize (%d) bytes, not %d", h.KeySize, len(key))
	}
	return fmt.Sprintf("$%s$i=%d$%s$%s", scheme, h.Iterations, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
