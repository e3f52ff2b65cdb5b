package credential

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordBytes is the longest password, in bytes, that a Hasher accepts.
// Longer input is refused rather than truncated so that a request cannot make
// the server hash megabytes of data.
const MaxPasswordBytes = 1024

// Errors returned by Hasher.
var (
	// ErrPasswordTooLong reports a password longer than MaxPasswordBytes.
	ErrPasswordTooLong = errors.New("credential: password longer than 1024 bytes")
	// ErrEmptyPassword reports an empty password given to Hash.
	ErrEmptyPassword = errors.New("credential: empty password")
	// ErrUnknownScheme reports a stored hash whose format Verify does not know.
	ErrUnknownScheme = errors.New("credential: unknown password hash scheme")
	// ErrMalformedHash reports a stored hash of a known scheme that cannot be parsed.
	ErrMalformedHash = errors.New("credential: malformed password hash")
)

// Params are the Argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB (argon2 "m").
	Memory uint32
	// Time is the number of passes (argon2 "t").
	Time uint32
	// Threads is the degree of parallelism (argon2 "p").
	Threads uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// DefaultParams returns the OWASP Password Storage Cheat Sheet minimum for
// Argon2id: m=19456 KiB (19 MiB), t=2, p=1, with a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// validate rejects parameters that argon2 cannot use or that are too weak to
// be a deliberate choice.
func (p Params) validate() error {
	switch {
	case p.Time < 1:
		return errors.New("credential: argon2id time must be at least 1")
	case p.Threads < 1:
		return errors.New("credential: argon2id threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return errors.New("credential: argon2id memory must be at least 8 KiB per thread")
	case p.SaltLen < 8:
		return errors.New("credential: salt must be at least 8 bytes")
	case p.KeyLen < 16:
		return errors.New("credential: key must be at least 16 bytes")
	}
	return nil
}

// weakerThan reports whether p costs less than, or yields a shorter salt or key
// than, the target parameters. A larger thread count does not count as
// stronger: it lowers wall time, not the attacker's work.
func (p Params) weakerThan(target Params) bool {
	return p.Memory < target.Memory || p.Time < target.Time ||
		p.SaltLen < target.SaltLen || p.KeyLen < target.KeyLen ||
		p.Threads != target.Threads
}

// Config configures a Hasher. The zero value is usable and means the defaults.
type Config struct {
	// Params are the Argon2id parameters for new hashes; zero means DefaultParams.
	Params Params
	// MaxConcurrent bounds the hashes computed at the same time; zero means
	// runtime.GOMAXPROCS(0).
	MaxConcurrent int
	// Rand supplies salts; nil means crypto/rand.Reader.
	Rand io.Reader
	// Busy, when set, counts the server's requests in progress: hashes
	// give way to them (yield.go).
	Busy Busy
	// Boost, when set, is told as each hash begins and ends: the server
	// adds processors while hashes run (cmd/gatehouse/gc.go).
	Boost Boost
}

// Boost hears of every hash computed: Begin before it starts, End after.
type Boost interface {
	Begin()
	End()
}

// Hasher hashes new passwords with Argon2id and verifies stored hashes. It is
// safe for concurrent use; at most MaxConcurrent hashes run at once and other
// callers wait their turn or give up when their context ends.
type Hasher struct {
	params Params
	rand   io.Reader
	sem    chan struct{}
	yield  *yielder
	boost  Boost // nil: none
	// dummy is an Argon2id hash of a random secret, verified by VerifyDummy.
	dummySalt []byte
	dummyKey  []byte
}

// NewHasher returns a Hasher configured by cfg.
func NewHasher(cfg Config) (*Hasher, error) {
	p := cfg.Params
	if p == (Params{}) {
		p = DefaultParams()
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	n := cfg.MaxConcurrent
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	h := &Hasher{params: p, rand: r, sem: make(chan struct{}, n), yield: &yielder{busy: cfg.Busy, slots: int64(n)}, boost: cfg.Boost}
	h.dummySalt = make([]byte, p.SaltLen)
	h.dummyKey = make([]byte, p.KeyLen)
	if _, err := io.ReadFull(r, h.dummySalt); err != nil {
		return nil, fmt.Errorf("credential: reading salt: %w", err)
	}
	if _, err := io.ReadFull(r, h.dummyKey); err != nil {
		return nil, fmt.Errorf("credential: reading salt: %w", err)
	}
	return h, nil
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a hashing slot, waiting until one is free or ctx ends, and
// then gives way to other requests (yield.go).
func (h *Hasher) acquire(ctx context.Context) (slot, error) {
	if err := ctx.Err(); err != nil {
		return slot{}, fmt.Errorf("credential: waiting to hash: %w", err)
	}
	back := func() {}
	if h.yield.busy != nil {
		back = h.yield.busy.Aside(ctx)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		back()
		return slot{}, fmt.Errorf("credential: waiting to hash: %w", ctx.Err())
	}
	h.yield.wait(ctx)
	if h.boost != nil {
		h.boost.Begin()
	}
	h.yield.hashing.Add(1)
	return slot{back: back, start: time.Now()}, nil
}

func (h *Hasher) release(s slot) {
	h.yield.lastNS.Store(int64(time.Since(s.start)))
	h.yield.hashing.Add(-1)
	if h.boost != nil {
		h.boost.End()
	}
	<-h.sem
	s.back()
}

// Hash returns the PHC-format Argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("credential: reading salt: %w", err)
	}
	s, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release(s)
	return encodeArgon2id(h.params, salt, key), nil
}

// VerifyDummy spends the same time and memory as verifying a wrong password
// against a current Argon2id hash, and always reports false. Call it when the
// user named at sign-in does not exist so that response time does not reveal
// which usernames are registered.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) bool {
	if len(password) > MaxPasswordBytes {
		password = password[:MaxPasswordBytes]
	}
	s, err := h.acquire(ctx)
	if err != nil {
		return false
	}
	key := argon2.IDKey([]byte(password), h.dummySalt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release(s)
	// The comparison result is discarded: the dummy key is random, so a match
	// is not a sign-in.
	_ = subtle.ConstantTimeCompare(key, h.dummyKey)
	return false
}

var b64 = base64.RawStdEncoding

func encodeArgon2id(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// argon2Hash is a parsed Argon2id PHC string.
type argon2Hash struct {
	params Params
	salt   []byte
	key    []byte
}

// Bounds on parameters read from stored hashes, so that a corrupt or hostile
// row cannot make one verification allocate gigabytes or run for minutes.
const (
	maxArgonMemory  = 4 << 20 // KiB, 4 GiB
	maxArgonTime    = 100
	maxArgonKeyLen  = 1024
	maxArgonSaltLen = 1024
)

func parseArgon2id(s string) (argon2Hash, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: wrong number of fields", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: unsupported version %q", ErrMalformedHash, parts[2])
	}
	var p Params
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return argon2Hash{}, fmt.Errorf("%w: argon2id: parameter %q", ErrMalformedHash, kv)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return argon2Hash{}, fmt.Errorf("%w: argon2id: parameter %q", ErrMalformedHash, kv)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
			seen |= 1
		case "t":
			p.Time = uint32(n)
			seen |= 2
		case "p":
			if n > 255 {
				return argon2Hash{}, fmt.Errorf("%w: argon2id: parameter %q", ErrMalformedHash, kv)
			}
			p.Threads = uint8(n)
			seen |= 4
		default:
			return argon2Hash{}, fmt.Errorf("%w: argon2id: parameter %q", ErrMalformedHash, kv)
		}
	}
	if seen != 7 {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: missing parameter", ErrMalformedHash)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: salt: %v", ErrMalformedHash, err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: key: %v", ErrMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Time < 1 || p.Time > maxArgonTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) ||
		p.Memory > maxArgonMemory || len(salt) < 8 || len(salt) > maxArgonSaltLen ||
		len(key) < 4 || len(key) > maxArgonKeyLen {
		return argon2Hash{}, fmt.Errorf("%w: argon2id: parameters out of range", ErrMalformedHash)
	}
	return argon2Hash{params: p, salt: salt, key: key}, nil
}
