package trustedorigin

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/filter"
)

func TestNormalizeOrigin(t *testing.T) {
	for raw, want := range map[string]string{
		"https://App.Example.COM":       "https://app.example.com",
		"https://app.example.com/":      "https://app.example.com",
		"https://app.example.com:443":   "https://app.example.com",
		"http://app.example.com:80":     "http://app.example.com",
		"http://127.0.0.1:05173":        "http://127.0.0.1:5173",
		"HTTP://[::1]:8080":             "http://[::1]:8080",
		"capacitor://localhost":         "capacitor://localhost",
		"ionic://localhost":             "ionic://localhost",
		"ftp://files.example.com:21":    "ftp://files.example.com",
		" https://app.example.com:8443": "https://app.example.com:8443",
	} {
		if got, msg := NormalizeOrigin(raw); got != want || msg != "" {
			t.Errorf("%q: %q %q, want %q", raw, got, msg, want)
		}
	}
	for raw, want := range map[string]string{
		"":                              "required",
		"app.example.com":               "scheme://host",
		"https://":                      "scheme://host",
		"https://app.example.com/x":     "path",
		"https://app.example.com?":      "query",
		"https://app.example.com?a=b":   "query",
		"https://app.example.com#":      "fragment",
		"https://u:p@app.example.com":   "user name",
		"javascript:alert(1)":           "scheme://host",
		"data://x":                      "scheme must be",
		"https://app.example.com:0":     "port",
		"https://app.example.com:70000": "port",
		"https://app.example.com:":      "scheme://host",
		"https://app.example.com\\@x":   "scheme://host",
		"https://app .example.com":      "scheme://host",
	} {
		if got, msg := NormalizeOrigin(raw); msg == "" || !strings.Contains(msg, want) {
			t.Errorf("%q: %q %q, want an error about %s", raw, got, msg, want)
		}
	}
}

func TestSelect(t *testing.T) {
	all := []*Origin{
		{ID: "tos1", Name: "Portal", Origin: "https://portal.example.com", Status: Active, Scopes: []string{CORS}},
		{ID: "tos2", Name: "Back", Origin: "https://back.example.com", Status: Inactive, Scopes: []string{Redirect}},
		{ID: "tos3", Name: "Both", Origin: "http://127.0.0.1:5173", Status: Active, Scopes: []string{CORS, Redirect}},
	}
	ids := func(os []*Origin) string {
		var s []string
		for _, o := range os {
			s = append(s, o.ID)
		}
		return strings.Join(s, ",")
	}
	page, next := Select(all, Query{Limit: 2})
	if ids(page) != "tos1,tos2" || next != "tos2" {
		t.Fatalf("first page: %s %q", ids(page), next)
	}
	if page, next = Select(all, Query{Limit: 2, After: next}); ids(page) != "tos3" || next != "" {
		t.Fatalf("last page: %s %q", ids(page), next)
	}
	if page, _ := Select(all, Query{Limit: 1, After: "tos3"}); len(page) != 0 {
		t.Fatal("past the end")
	}
	for f, want := range map[string]string{
		`status eq "ACTIVE"`:                                           "tos1,tos3",
		`type eq "REDIRECT"`:                                           "tos2,tos3",
		`type eq "CORS" and status eq "ACTIVE"`:                        "tos1,tos3",
		`name eq "Back" or origin eq "HTTPS://portal.example.com:443"`: "tos1,tos2",
		`origin sw "http://"`:                                          "tos3",
		`id eq "tos2"`:                                                 "tos2",
	} {
		e, err := filter.Parse(f, FilterOptions)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if page, _ := Select(all, Query{Filter: e}); ids(page) != want {
			t.Errorf("%s: %s, want %s", f, ids(page), want)
		}
	}
	for q, want := range map[string]string{"po": "tos1", "B": "tos2,tos3", "127.": "tos3", "https://b": "tos2"} {
		if page, _ := Select(all, Query{Q: q}); ids(page) != want {
			t.Errorf("q=%s: %s, want %s", q, ids(page), want)
		}
	}
	if _, err := filter.Parse(`createdBy eq "x"`, FilterOptions); err == nil {
		t.Fatal("filter on createdBy accepted")
	}
}

// memStore is a Store in memory that counts its reads.
type memStore struct {
	Store
	version  int64
	origins  []*Origin
	versions atomic.Int64
	lists    atomic.Int64
}

func (m *memStore) TrustedOriginsVersion(context.Context) (int64, error) {
	m.versions.Add(1)
	return m.version, nil
}

func (m *memStore) TrustedOrigins(context.Context) ([]*Origin, error) {
	m.lists.Add(1)
	return m.origins, nil
}

// TestCache: the cache rereads the origins only when the version changed,
// and only ACTIVE origins with the scope are allowed.
func TestCache(t *testing.T) {
	ctx := context.Background()
	m := &memStore{version: 1, origins: []*Origin{{ID: "tos1", Origin: "https://a.example.com", Status: Active, Scopes: []string{CORS}}}}
	c := &Cache{Store: m}
	for _, tc := range []struct {
		origin, scope string
		want          bool
	}{
		{"https://a.example.com", CORS, true},
		{"https://A.example.com:443", CORS, true},
		{"https://a.example.com", Redirect, false},
		{"http://a.example.com", CORS, false},
		{"null", CORS, false},
		{"https://a.example.com.evil.example", CORS, false},
	} {
		if got, err := c.Allows(ctx, tc.origin, tc.scope); err != nil || got != tc.want {
			t.Errorf("%s %s: %v %v", tc.origin, tc.scope, got, err)
		}
	}
	if m.lists.Load() != 1 {
		t.Fatalf("%d loads for one version", m.lists.Load())
	}
	m.origins = []*Origin{{ID: "tos1", Origin: "https://a.example.com", Status: Inactive, Scopes: []string{CORS}}}
	m.version = 2
	if ok, _ := c.Allows(ctx, "https://a.example.com", CORS); ok || m.lists.Load() != 2 {
		t.Fatalf("after a change: %v, %d loads", ok, m.lists.Load())
	}
}
