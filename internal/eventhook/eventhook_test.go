package eventhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEligibleTypesAreEmitted: the list is sorted (Eligible searches it)
// and every type in it is written somewhere in Gatehouse's code, so that a
// hook never subscribes to an event that cannot happen.
func TestEligibleTypesAreEmitted(t *testing.T) {
	if !slices.IsSorted(eligible) {
		t.Fatal("eligible is not sorted")
	}
	var code strings.Builder
	root := filepath.Join("..")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "eventhook") {
			return nil
		}
		b, _ := os.ReadFile(p)
		code.Write(b)
		return nil
	})
	for _, typ := range eligible {
		if !strings.Contains(code.String(), `"`+typ+`"`) {
			t.Errorf("%s is eligible but no code writes it", typ)
		}
		if strings.HasPrefix(typ, "event_hook.") {
			t.Errorf("%s: a hook's own events are not eligible", typ)
		}
	}
	if Eligible("event_hook.delivery") || Eligible("user.lifecycle.nonsense") || !Eligible("user.session.start") {
		t.Error("Eligible")
	}
}

func TestCheckURI(t *testing.T) {
	strict, lax := &Service{}, &Service{AllowHTTP: true}
	for _, c := range []struct {
		uri        string
		strict, ok bool // accepted without and with event_hook_allow_http
	}{
		{"https://hooks.example.com/okta", true, true},
		{"https://127.0.0.1:8443/x?a=b", true, true},
		{"http://hooks.example.com/okta", false, true},
		{"ftp://hooks.example.com/", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"https://hooks.example.com/#frag", false, false},
		{"https:///nohost", false, false},
		{"https://0.0.0.0/", false, false},
		{"/relative", false, false},
		{"", false, false},
	} {
		if got := strict.checkURI(c.uri) == ""; got != c.strict {
			t.Errorf("%q without allow_http: accepted %v", c.uri, got)
		}
		if got := lax.checkURI(c.uri) == ""; got != c.ok {
			t.Errorf("%q with allow_http: accepted %v", c.uri, got)
		}
	}
}

func TestOwnGuard(t *testing.T) {
	g := newOwnGuard([]string{"127.0.0.1:8080", ":9090", "0.0.0.0:7070"})
	for addr, refused := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1:8081": false, "10.1.2.3:8080": false,
		"127.0.0.1:9090": true, "[::1]:9090": true, "127.0.0.1:7070": true, "93.184.216.34:9090": false,
	} {
		if got := g.refuses(netip.MustParseAddrPort(addr)); got != refused {
			t.Errorf("%s: refused %v, want %v", addr, got, refused)
		}
	}
}

// TestSenderFollowsNoRedirect: a 3xx is a failed call that is not retried,
// and the redirect's target is never called.
func TestSenderFollowsNoRedirect(t *testing.T) {
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Store(true) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()
	s := NewSender(SenderConfig{})
	h := &Hook{ID: "who1", URI: redirect.URL}
	err := s.Deliver(context.Background(), h, "", []byte(`{}`))
	var ce *CallError
	if !errors.As(err, &ce) || ce.Status != http.StatusFound || ce.Retryable() {
		t.Fatalf("delivery to a redirect: %v", err)
	}
	if err := s.Challenge(context.Background(), h, "", "abc"); err == nil {
		t.Fatal("a redirect verified the hook")
	}
	if followed.Load() {
		t.Fatal("the redirect was followed")
	}
}
