package credential

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// cheapParams keep tests fast; they are only valid for tests.
var cheapParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(t testing.TB, p Params, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := NewHasher(Config{Params: p, MaxConcurrent: maxConcurrent})
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func TestHashDefaultParamsRoundTrip(t *testing.T) {
	h := newTestHasher(t, Params{}, 0)
	if h.Params() != DefaultParams() {
		t.Fatalf("Params() = %+v, want defaults", h.Params())
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoded = %q, want OWASP argon2id PHC prefix", enc)
	}
	parts := strings.Split(enc, "$")
	if salt, _ := b64.DecodeString(parts[4]); len(salt) != 16 {
		t.Errorf("salt length = %d, want 16", len(salt))
	}
	if key, _ := b64.DecodeString(parts[5]); len(key) != 32 {
		t.Errorf("key length = %d, want 32", len(key))
	}
	ok, rehash, err := h.Verify(ctx, enc, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, _, err = h.Verify(ctx, enc, "correct horse battery stapl")
	if err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v; want false, nil", ok, err)
	}
}

func TestHashMatchesArgon2idPrimitive(t *testing.T) {
	salt := bytes.Repeat([]byte{0x5a}, 16)
	// Rand supplies the dummy salt and key first (NewHasher), then each salt.
	rnd := bytes.NewReader(append(make([]byte, 16+32), salt...))
	h, err := NewHasher(Config{Params: cheapParams, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(context.Background(), "pässwörd")
	if err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte("pässwörd"), salt, 1, 64, 1, 32)
	want := "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(key)
	if enc != want {
		t.Fatalf("Hash = %q\nwant   %q", enc, want)
	}
}

func TestHashRejects(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	ctx := context.Background()
	if _, err := h.Hash(ctx, ""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("Hash(empty) err = %v", err)
	}
	if _, err := h.Hash(ctx, strings.Repeat("a", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(1025 bytes) err = %v", err)
	}
	if _, err := h.Hash(ctx, strings.Repeat("a", MaxPasswordBytes)); err != nil {
		t.Errorf("Hash(1024 bytes) err = %v", err)
	}
	if _, _, err := h.Verify(ctx, "$argon2id$x", strings.Repeat("a", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Verify(1025 bytes) err = %v", err)
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 4, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := NewHasher(Config{Params: p}); err == nil {
			t.Errorf("NewHasher(%+v) succeeded, want error", p)
		}
	}
}

func TestArgon2idNeedsRehash(t *testing.T) {
	ctx := context.Background()
	current := newTestHasher(t, Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"stronger memory and time", Params{Memory: 256, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"less memory", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"fewer passes", Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}, true},
		{"other thread count", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := newTestHasher(t, tt.params, 1)
			enc, err := old.Hash(ctx, "Secret123")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := current.Verify(ctx, enc, "Secret123")
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if rehash != tt.want {
				t.Fatalf("needsRehash = %v, want %v", rehash, tt.want)
			}
		})
	}
}

// importCase builds an ImportedHash for password the way the source system
// would have, using only standard primitives.
type importCase struct {
	name string
	hash ImportedHash
}

func std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func digestOf(f func() hash.Hash, parts ...[]byte) []byte {
	h := f()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func importCases(t *testing.T, password string) []importCase {
	t.Helper()
	pw := []byte(password)
	salt := []byte("s4lt-of-16-bytes")
	bc, err := bcrypt.GenerateFromPassword(pw, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Okta splits "$2a$04$<22 salt><31 value>".
	bcSalt, bcValue := string(bc[7:29]), string(bc[29:])
	pb256, _ := pbkdf2.Key(sha256.New, password, salt, 4096, 32)
	pb512, _ := pbkdf2.Key(sha512.New, password, salt, 5000, 64)
	return []importCase{
		{"BCRYPT", ImportedHash{Algorithm: "BCRYPT", WorkFactor: 4, Salt: bcSalt, Value: bcValue}},
		{"SHA-512 unsalted", ImportedHash{Algorithm: "SHA-512", Value: std(digestOf(sha512.New, pw))}},
		{"SHA-512 prefix", ImportedHash{Algorithm: "SHA-512", Salt: std(salt), SaltOrder: "PREFIX", Value: std(digestOf(sha512.New, salt, pw))}},
		{"SHA-256 unsalted", ImportedHash{Algorithm: "SHA-256", Value: std(digestOf(sha256.New, pw))}},
		{"SHA-256 prefix", ImportedHash{Algorithm: "SHA-256", Salt: std(salt), SaltOrder: "PREFIX", Value: std(digestOf(sha256.New, salt, pw))}},
		{"SHA-256 postfix", ImportedHash{Algorithm: "SHA-256", Salt: std(salt), SaltOrder: "POSTFIX", Value: std(digestOf(sha256.New, pw, salt))}},
		{"SHA-256 unpadded base64", ImportedHash{Algorithm: "SHA-256", Salt: base64.RawStdEncoding.EncodeToString(salt[:5]), SaltOrder: "POSTFIX", Value: base64.RawStdEncoding.EncodeToString(digestOf(sha256.New, pw, salt[:5]))}},
		{"SHA-1 postfix", ImportedHash{Algorithm: "SHA-1", Salt: std(salt), SaltOrder: "POSTFIX", Value: std(digestOf(sha1.New, pw, salt))}},
		{"MD5 prefix", ImportedHash{Algorithm: "MD5", Salt: std(salt), SaltOrder: "PREFIX", Value: std(digestOf(md5.New, salt, pw))}},
		{"MD5 unsalted", ImportedHash{Algorithm: "MD5", Value: std(digestOf(md5.New, pw))}},
		{"PBKDF2 SHA256_HMAC", ImportedHash{Algorithm: "PBKDF2", Iterations: 4096, DigestAlgorithm: "SHA256_HMAC", KeySize: 32, Salt: std(salt), Value: std(pb256)}},
		{"PBKDF2 SHA512_HMAC", ImportedHash{Algorithm: "PBKDF2", Iterations: 5000, DigestAlgorithm: "SHA512_HMAC", KeySize: 64, Salt: std(salt), Value: std(pb512)}},
	}
}

func TestVerifyImported(t *testing.T) {
	h := newTestHasher(t, cheapParams, 2)
	ctx := context.Background()
	const password = "Tr0ub4dor&3 ünïcode"
	for _, tc := range importCases(t, password) {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.hash.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			enc, err := tc.hash.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			ok, rehash, err := h.Verify(ctx, enc, password)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify(right) on %q = %v, %v, %v; want true, true, nil", enc, ok, rehash, err)
			}
			for _, wrong := range []string{"", "Tr0ub4dor&3", password + "x", strings.ToUpper(password)} {
				ok, rehash, err := h.Verify(ctx, enc, wrong)
				if err != nil || ok || rehash {
					t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
				}
			}
		})
	}
}

func TestEncodeImportedFormat(t *testing.T) {
	salt := std([]byte("salt"))
	tests := []struct {
		hash ImportedHash
		want string
	}{
		{ImportedHash{Algorithm: "BCRYPT", WorkFactor: 10, Salt: "CCCCCCCCCCCCCCCCCCCCC.", Value: "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
			"$2a$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
		{ImportedHash{Algorithm: "MD5", Value: "X03MO1qnZdYdgyfeuILPmQ=="}, "$md5$X03MO1qnZdYdgyfeuILPmQ"},
		{ImportedHash{Algorithm: "SHA-1", Salt: salt, SaltOrder: "PREFIX", Value: std(make([]byte, 20))},
			"$sha1$o=prefix$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{ImportedHash{Algorithm: "PBKDF2", Iterations: 10000, DigestAlgorithm: "SHA512_HMAC", KeySize: 16, Salt: salt, Value: std(make([]byte, 16))},
			"$pbkdf2-sha512$i=10000$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA"},
	}
	for _, tt := range tests {
		got, err := tt.hash.Encode()
		if err != nil || got != tt.want {
			t.Errorf("Encode(%+v) = %q, %v; want %q", tt.hash, got, err, tt.want)
		}
	}
}

// Published vectors, independent of this package's own encoding.
func TestVerifyKnownVectors(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	ctx := context.Background()
	tests := []struct {
		hash     ImportedHash
		password string
	}{
		// Openwall crypt_blowfish test vector.
		{ImportedHash{Algorithm: "BCRYPT", WorkFactor: 5, Salt: "CCCCCCCCCCCCCCCCCCCCC.", Value: "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}, "U*U"},
		// md5("password") = 5f4dcc3b5aa765d61d8327deb882cf99
		{ImportedHash{Algorithm: "MD5", Value: "X03MO1qnZdYdgyfeuILPmQ=="}, "password"},
		// sha1("password") = 5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8
		{ImportedHash{Algorithm: "SHA-1", Value: "W6ph5Mm5Pz8GgiULbPgzG37mj9g="}, "password"},
	}
	for _, tt := range tests {
		enc, err := tt.hash.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, enc, tt.password); !ok || err != nil {
			t.Errorf("Verify(%s, %q) = %v, %v; want true", enc, tt.password, ok, err)
		}
	}
	// A bcrypt string stored as is (not through ImportedHash) also verifies.
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + "05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
		if ok, rehash, err := h.Verify(ctx, enc, "U*U"); !ok || !rehash || err != nil {
			t.Errorf("Verify(%s) = %v, %v, %v", enc, ok, rehash, err)
		}
	}
}

func TestImportedValidate(t *testing.T) {
	b := std
	tests := []struct {
		name   string
		hash   ImportedHash
		fields []string
	}{
		{"no algorithm", ImportedHash{Value: "x"}, []string{"algorithm"}},
		{"unknown algorithm", ImportedHash{Algorithm: "sha-256", Value: b(make([]byte, 32))}, []string{"algorithm"}},
		{"bcrypt everything wrong", ImportedHash{Algorithm: "BCRYPT", WorkFactor: 3, Salt: "short", Value: "!!"}, []string{"workFactor", "salt", "value"}},
		{"bcrypt cost too high", ImportedHash{Algorithm: "BCRYPT", WorkFactor: 21, Salt: strings.Repeat("a", 22), Value: strings.Repeat("b", 31)}, []string{"workFactor"}},
		{"bcrypt full string in value", ImportedHash{Algorithm: "BCRYPT", WorkFactor: 10, Salt: strings.Repeat("a", 22), Value: "$2a$10$" + strings.Repeat("b", 53)}, []string{"value"}},
		{"sha256 missing value", ImportedHash{Algorithm: "SHA-256"}, []string{"value"}},
		{"sha256 wrong digest size", ImportedHash{Algorithm: "SHA-256", Value: b(make([]byte, 20))}, []string{"value"}},
		{"sha512 not base64", ImportedHash{Algorithm: "SHA-512", Value: "%%%"}, []string{"value"}},
		{"salted without order", ImportedHash{Algorithm: "SHA-1", Salt: b([]byte("s")), Value: b(make([]byte, 20))}, []string{"saltOrder"}},
		{"bad salt order", ImportedHash{Algorithm: "MD5", Salt: b([]byte("s")), SaltOrder: "prefix", Value: b(make([]byte, 16))}, []string{"saltOrder"}},
		{"bad salt base64", ImportedHash{Algorithm: "MD5", Salt: "***", SaltOrder: "PREFIX", Value: b(make([]byte, 16))}, []string{"salt"}},
		{"pbkdf2 empty", ImportedHash{Algorithm: "PBKDF2"}, []string{"digestAlgorithm", "iterationCount", "keySize", "salt", "value"}},
		{"pbkdf2 few iterations", ImportedHash{Algorithm: "PBKDF2", Iterations: 4095, DigestAlgorithm: "SHA256_HMAC", KeySize: 32, Salt: b([]byte("s")), Value: b(make([]byte, 32))}, []string{"iterationCount"}},
		{"pbkdf2 unknown digest", ImportedHash{Algorithm: "PBKDF2", Iterations: 4096, DigestAlgorithm: "SHA1_HMAC", KeySize: 32, Salt: b([]byte("s")), Value: b(make([]byte, 32))}, []string{"digestAlgorithm"}},
		{"pbkdf2 key size mismatch", ImportedHash{Algorithm: "PBKDF2", Iterations: 4096, DigestAlgorithm: "SHA256_HMAC", KeySize: 32, Salt: b([]byte("s")), Value: b(make([]byte, 20))}, []string{"value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.hash.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("invalid fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if _, err := tt.hash.Encode(); err == nil {
				t.Fatal("Encode succeeded on an invalid hash")
			}
		})
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	ctx := context.Background()
	tests := []struct {
		encoded string
		want    error
	}{
		{"", ErrUnknownScheme},
		{"plaintext", ErrUnknownScheme},
		{"$scrypt$ln=16$abc$def", ErrUnknownScheme},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", ErrUnknownScheme},
		{"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", ErrMalformedHash},
		{"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5", ErrMalformedHash},
		{"$2a$10$short", ErrMalformedHash},
		{"$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrMalformedHash},
		{"$sha256$o=middle$c2FsdA$" + b64.EncodeToString(make([]byte, 32)), ErrMalformedHash},
		{"$sha256$" + b64.EncodeToString(make([]byte, 31)), ErrMalformedHash},
		{"$pbkdf2-sha256$i=100$c2FsdA$" + b64.EncodeToString(make([]byte, 32)), ErrMalformedHash},
		{"$pbkdf2-sha256$4096$c2FsdA$" + b64.EncodeToString(make([]byte, 32)), ErrMalformedHash},
	}
	for _, tt := range tests {
		ok, _, err := h.Verify(ctx, tt.encoded, "password")
		if ok || !errors.Is(err, tt.want) {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.encoded, ok, err, tt.want)
		}
	}
}

func TestConcurrencyBound(t *testing.T) {
	h := newTestHasher(t, cheapParams, 0)
	if got := cap(h.sem); got != runtime.GOMAXPROCS(0) {
		t.Fatalf("default bound = %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}

	const bound = 2
	h = newTestHasher(t, Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, bound)
	// Sample the number of hashes in flight while many goroutines hash.
	var maxSeen atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := int64(len(h.sem)); n > maxSeen.Load() {
				maxSeen.Store(n)
			}
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "Password1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if m := maxSeen.Load(); m > bound || m < 1 {
		t.Fatalf("max hashes in flight = %d, want 1..%d", m, bound)
	}

	// With every slot taken, callers wait and give up when their context ends.
	for i := 0; i < bound; i++ {
		h.sem <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.Hash(ctx, "Password1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with full semaphore: err = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) < 40*time.Millisecond {
		t.Fatal("Hash returned before its context ended")
	}
	if _, _, err := h.Verify(ctx, "$md5$X03MO1qnZdYdgyfeuILPmQ", "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify with full semaphore: err = %v", err)
	}
	if h.VerifyDummy(ctx, "password") {
		t.Fatal("VerifyDummy reported a match")
	}
	// A waiting caller proceeds as soon as a slot frees.
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "Password1")
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("Hash ran while all slots were held")
	case <-time.After(20 * time.Millisecond):
	}
	<-h.sem
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDummyCostsLikeVerify(t *testing.T) {
	h := newTestHasher(t, Params{Memory: 4096, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "RealPassw0rd")
	if err != nil {
		t.Fatal(err)
	}
	// The process's CPU time, the least of five: unlike the wall clock
	// it does not grow with other work on the machine.
	least := func(f func()) time.Duration {
		best := time.Duration(math.MaxInt64)
		for i := 0; i < 5; i++ {
			start := processCPU(t)
			f()
			best = min(best, processCPU(t)-start)
		}
		return best
	}
	real := least(func() { h.Verify(ctx, enc, "WrongPassw0rd") })
	dummy := least(func() {
		if h.VerifyDummy(ctx, "WrongPassw0rd") {
			t.Error("VerifyDummy reported a match")
		}
	})
	if dummy < real/3 || dummy > real*3 {
		t.Fatalf("VerifyDummy took %v, Verify took %v; want comparable", dummy, real)
	}
}

// processCPU is the CPU time of the process so far (user and system).
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkArgon2idHash(b *testing.B) {
	h := newTestHasher(b, DefaultParams(), 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArgon2idHashParallel(b *testing.B) {
	h := newTestHasher(b, DefaultParams(), 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkArgon2idVerify(b *testing.B) {
	h := newTestHasher(b, DefaultParams(), 0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := h.Verify(ctx, enc, "correct horse battery staple"); !ok {
			b.Fatal("no match")
		}
	}
}
