package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestTrustProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/64")}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy in between", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"an untrusted peer cannot choose its address", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"one trusted proxy", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a made-up entry left of the client", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "192.168.1.7:5000", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"headers are joined in order", "10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1, 10.4.4.4"}, "198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"198.51.100.1, <script>, 10.4.4.4"}, "10.4.4.4"},
		{"only trusted hops", "10.1.2.3:5000", []string{"10.7.7.7, 10.4.4.4"}, "10.7.7.7"},
		{"a trusted peer without the header", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"a trusted peer with only garbage", "10.1.2.3:5000", []string{"unknown"}, "10.1.2.3"},
		{"IPv6", "[fd00::2]:5000", []string{"2001:db8::9"}, "2001:db8::9"},
		{"IPv4 in IPv6", "[::ffff:10.1.2.3]:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := TrustProxies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }), trusted)
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Fatalf("client %q, want %q", got, tc.want)
			}
		})
	}
	// Without trusted proxies the handler is left as it is.
	var got string
	h := TrustProxies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }), nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "10.1.2.3" {
		t.Fatalf("no trusted proxies: %q", got)
	}
}

func FuzzForwardedFor(f *testing.F) {
	f.Add("198.51.100.1, 10.4.4.4")
	f.Add("::ffff:1.2.3.4,,, ,")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.1.2.3:5000"
		r.Header.Set("X-Forwarded-For", xff)
		a, ok := forwardedClient(r, trusted)
		if ok && !a.IsValid() {
			t.Fatal("invalid address reported")
		}
	})
}
