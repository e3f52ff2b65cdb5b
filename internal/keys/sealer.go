// Package keys holds Gatehouse's key material handling: envelope encryption
// of secrets at rest under a master key (Sealer), and generation and
// encoding of the RSA signing keys and self-signed certificates that apps use
// to sign SAML messages.
//
// Nothing in this package logs, prints or formats key bytes: MasterKey
// redacts itself in fmt verbs, and errors never include key material.
package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length in bytes of a master key (AES-256).
const MasterKeySize = 32

// sealedPrefix starts every ciphertext produced by Sealer.Seal; it names the
// format version.
const sealedPrefix = "gh1"

// ErrOpen is returned (wrapped) by Sealer.Open for any ciphertext that does
// not decrypt: wrong context, unknown key id, tampering or a bad format.
var ErrOpen = errors.New("keys: sealed value cannot be opened")

// MasterKey is a 32-byte key-encryption key with a key id derived from it.
// The zero value is not usable. Its String and GoString methods never reveal
// the key bytes.
type MasterKey struct {
	id  string
	key []byte
}

// NewMasterKey wraps 32 raw bytes as a master key. The bytes are copied.
func NewMasterKey(raw []byte) (MasterKey, error) {
	if len(raw) != MasterKeySize {
		return MasterKey{}, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(raw))
	}
	k := make([]byte, MasterKeySize)
	copy(k, raw)
	return MasterKey{id: masterKeyID(k), key: k}, nil
}

// masterKeyID derives a short public identifier for a master key: the first
// 12 characters of base64url(SHA-256("gatehouse master key id\x00" || key)).
// The id is written into every ciphertext so that Open can pick the right key
// after rotation; it reveals nothing useful about the key.
func masterKeyID(k []byte) string {
	h := sha256.New()
	h.Write([]byte("gatehouse master key id\x00"))
	h.Write(k)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:12]
}

// ID returns the public key id of the master key.
func (k MasterKey) ID() string { return k.id }

// String redacts the key.
func (k MasterKey) String() string { return "MasterKey(" + k.id + ")" }

// GoString redacts the key.
func (k MasterKey) GoString() string { return k.String() }

// Encode returns the base64 (standard, padded) form of the key, the form
// accepted by MasterKeyFromEnv and written by LoadOrCreateMasterKey. Handle
// the result as a secret.
func (k MasterKey) Encode() string { return base64.StdEncoding.EncodeToString(k.key) }

// MasterKeyFromEnv decodes a master key from its base64 form (standard or
// URL alphabet, padded or not, surrounding white space ignored), as found in
// an environment variable.
func MasterKeyFromEnv(value string) (MasterKey, error) {
	raw, err := decodeKeyText(value)
	if err != nil {
		return MasterKey{}, fmt.Errorf("keys: master key from environment: %w", err)
	}
	return NewMasterKey(raw)
}

func decodeKeyText(value string) ([]byte, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, errors.New("empty value")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(v); err == nil {
			return raw, nil
		}
	}
	return nil, errors.New("value is not base64")
}

// LoadOrCreateMasterKey reads the master key stored (base64 text) at path.
// When the file does not exist it generates a key with crypto/rand, writes it
// with permissions 0600 (creating the parent directory with 0700 if needed)
// and reports created=true so that the caller can warn the operator to back
// the file up. It never overwrites an existing file.
func LoadOrCreateMasterKey(path string) (key MasterKey, created bool, err error) {
	return loadOrCreateMasterKey(path, rand.Reader)
}

func loadOrCreateMasterKey(path string, random io.Reader) (MasterKey, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := MasterKeyFromEnv(string(data))
		if err != nil {
			return MasterKey{}, false, fmt.Errorf("keys: master key file %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return MasterKey{}, false, fmt.Errorf("keys: read master key file: %w", err)
	}
	raw := make([]byte, MasterKeySize)
	if _, err := io.ReadFull(random, raw); err != nil {
		return MasterKey{}, false, fmt.Errorf("keys: generate master key: %w", err)
	}
	k, err := NewMasterKey(raw)
	if err != nil {
		return MasterKey{}, false, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return MasterKey{}, false, fmt.Errorf("keys: create master key directory: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race: use its key
			return loadOrCreateMasterKey(path, random)
		}
		return MasterKey{}, false, fmt.Errorf("keys: create master key file: %w", err)
	}
	_, werr := f.WriteString(k.Encode() + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return MasterKey{}, false, fmt.Errorf("keys: write master key file: %w", err)
	}
	return k, true, nil
}

// Sealer encrypts secrets at rest (AES-256-GCM) under the active master key
// and decrypts values sealed under the active or any older master key given
// to NewSealer, which is how the master key rotates: deploy the new key as
// active with the old one as previous, re-seal (Reseal) every stored value,
// then drop the old key.
//
// A sealed value is the text "gh1.<key id>.<base64url(nonce || ciphertext ||
// tag)>". The associated data binds the format version, the key id and a
// caller-given context string (for example "app:0oa123:signing"), so that a
// ciphertext moved to another row or purpose fails to open. A Sealer is safe
// for concurrent use.
type Sealer struct {
	activeID string
	aeads    map[string]cipher.AEAD
	random   io.Reader
}

// NewSealer builds a Sealer that seals with active and opens values sealed
// under active or any of previous. random supplies nonces; nil means
// crypto/rand.
func NewSealer(random io.Reader, active MasterKey, previous ...MasterKey) (*Sealer, error) {
	if random == nil {
		random = rand.Reader
	}
	s := &Sealer{activeID: active.id, aeads: map[string]cipher.AEAD{}, random: random}
	for i, k := range append([]MasterKey{active}, previous...) {
		if len(k.key) != MasterKeySize {
			return nil, fmt.Errorf("keys: master key %d is not initialised", i)
		}
		if _, dup := s.aeads[k.id]; dup {
			continue
		}
		block, err := aes.NewCipher(k.key)
		if err != nil {
			return nil, fmt.Errorf("keys: master key %s: %w", k.id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keys: master key %s: %w", k.id, err)
		}
		s.aeads[k.id] = aead
	}
	return s, nil
}

// ActiveKeyID returns the id of the master key new values are sealed with.
func (s *Sealer) ActiveKeyID() string { return s.activeID }

func additionalData(keyID, context string) []byte {
	var b bytes.Buffer
	b.WriteString(sealedPrefix)
	b.WriteByte(0)
	b.WriteString(keyID)
	b.WriteByte(0)
	b.WriteString(context)
	return b.Bytes()
}

// Seal encrypts plaintext for the given context. The context must be given
// again, identical, to Open.
func (s *Sealer) Seal(plaintext []byte, context string) (string, error) {
	aead := s.aeads[s.activeID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(s.random, nonce); err != nil {
		return "", fmt.Errorf("keys: seal: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, additionalData(s.activeID, context))
	return sealedPrefix + "." + s.activeID + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// KeyIDOf returns the master key id a sealed value names, without opening it.
func KeyIDOf(sealed string) (string, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || parts[0] != sealedPrefix || parts[1] == "" {
		return "", fmt.Errorf("%w: not a gh1 sealed value", ErrOpen)
	}
	return parts[1], nil
}

// Open decrypts a value produced by Seal with the same context.
func (s *Sealer) Open(sealed string, context string) ([]byte, error) {
	keyID, err := KeyIDOf(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := s.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown master key id %q", ErrOpen, keyID)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealedPrefix)+1+len(keyID)+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: bad encoding", ErrOpen)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrOpen)
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additionalData(keyID, context))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong key or context, or tampered)", ErrOpen)
	}
	return pt, nil
}

// NeedsReseal reports whether a sealed value was made under a master key
// other than the active one.
func (s *Sealer) NeedsReseal(sealed string) bool {
	id, err := KeyIDOf(sealed)
	return err == nil && id != s.activeID
}

// Reseal opens a value and seals it again under the active master key.
func (s *Sealer) Reseal(sealed string, context string) (string, error) {
	pt, err := s.Open(sealed, context)
	if err != nil {
		return "", err
	}
	defer clear(pt)
	return s.Seal(pt, context)
}
