package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t testing.TB, fill byte) MasterKey {
	t.Helper()
	k, err := NewMasterKey(bytes.Repeat([]byte{fill}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTripAndContextBinding(t *testing.T) {
	k := mustKey(t, 1)
	s, err := NewSealer(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("-----BEGIN PRIVATE KEY----- not really")
	sealed, err := s.Seal(secret, "app:0oa1:signing")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "gh1."+k.ID()+".") {
		t.Fatalf("sealed value %q lacks version and key id prefix", sealed)
	}
	if strings.Contains(sealed, "PRIVATE") {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := s.Open(sealed, "app:0oa1:signing")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}

	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	cases := map[string]struct{ sealed, ctx string }{
		"other context":   {sealed, "app:0oa2:signing"},
		"empty context":   {sealed, ""},
		"tampered":        {string(tampered), "app:0oa1:signing"},
		"unknown key id":  {strings.Replace(sealed, k.ID(), "AAAAAAAAAAAA", 1), "app:0oa1:signing"},
		"wrong version":   {"gh2" + sealed[3:], "app:0oa1:signing"},
		"truncated":       {sealed[:len("gh1.")+len(k.ID())+5], "app:0oa1:signing"},
		"not sealed":      {"hello", "app:0oa1:signing"},
		"extra separator": {sealed + ".x", "app:0oa1:signing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Open(c.sealed, c.ctx); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open error = %v, want ErrOpen", err)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	s, _ := NewSealer(nil, mustKey(t, 1))
	a, _ := s.Seal([]byte("x"), "c")
	b, _ := s.Seal([]byte("x"), "c")
	if a == b {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestMasterKeyRotation(t *testing.T) {
	oldK, newK := mustKey(t, 1), mustKey(t, 2)
	oldS, _ := NewSealer(nil, oldK)
	sealed, _ := oldS.Seal([]byte("secret"), "ctx")

	rotated, err := NewSealer(nil, newK, oldK)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.NeedsReseal(sealed) {
		t.Fatal("value sealed under the old key should need resealing")
	}
	resealed, err := rotated.Reseal(sealed, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	if rotated.NeedsReseal(resealed) {
		t.Fatal("resealed value still names the old key")
	}
	// After the old key is dropped, only the resealed value opens.
	onlyNew, _ := NewSealer(nil, newK)
	if got, err := onlyNew.Open(resealed, "ctx"); err != nil || string(got) != "secret" {
		t.Fatalf("Open(resealed) = %q, %v", got, err)
	}
	if _, err := onlyNew.Open(sealed, "ctx"); !errors.Is(err, ErrOpen) {
		t.Fatalf("old value opened without the old key: %v", err)
	}
}

func TestMasterKeyNeverFormatsItsBytes(t *testing.T) {
	k := mustKey(t, 0x41) // 'A' bytes
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, "AAAA") || strings.Contains(s, k.Encode()) {
			t.Fatalf("formatted key leaks bytes: %s", s)
		}
	}
}

func TestMasterKeyFromEnv(t *testing.T) {
	k := mustKey(t, 7)
	for name, v := range map[string]string{
		"std":        k.Encode(),
		"padded nl":  k.Encode() + "\n",
		"raw url":    strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(k.Encode()), "="),
		"whitespace": "  " + k.Encode() + "  ",
	} {
		got, err := MasterKeyFromEnv(v)
		if err != nil || got.ID() != k.ID() {
			t.Errorf("%s: got %v, %v", name, got, err)
		}
	}
	for name, v := range map[string]string{"empty": "", "short": "AAAA", "not base64": "!!!!", "31 bytes": strings.Repeat("A", 41) + "="} {
		if _, err := MasterKeyFromEnv(v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created || k2.ID() != k1.ID() {
		t.Fatalf("second call: created=%v err=%v same=%v", created, err, k2.ID() == k1.ID())
	}
	// A corrupt file is an error, never silently replaced.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateMasterKey(path); err == nil {
		t.Fatal("corrupt key file accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage" {
		t.Fatal("corrupt key file was overwritten")
	}
}

func FuzzOpen(f *testing.F) {
	s, _ := NewSealer(rand.Reader, mustKey(f, 3))
	good, _ := s.Seal([]byte("seed"), "ctx")
	f.Add(good, "ctx")
	f.Add("gh1..", "")
	f.Add("gh1.AAAAAAAAAAAA.AAAA", "ctx")
	f.Add(strings.Repeat(".", 10), "x")
	f.Fuzz(func(t *testing.T, sealed, ctx string) {
		pt, err := s.Open(sealed, ctx)
		// Only a genuine seal may open: fuzz workers are separate processes
		// whose own seal of "seed" has another nonce, so compare what was
		// sealed, not the sealed text.
		if err == nil && (ctx != "ctx" || string(pt) != "seed") {
			t.Fatalf("forged value opened: %q", sealed)
		}
	})
}
