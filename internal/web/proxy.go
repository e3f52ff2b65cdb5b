package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustProxies serves h with the client's address in RemoteAddr for
// requests that come through the given trusted proxies (load balancers,
// reverse proxies). When a request's peer is a trusted proxy, the client
// is the rightmost address of X-Forwarded-For that is not itself a
// trusted proxy: every trusted hop appends the address it saw, and only
// the entries to the left of the first untrusted one can be made up by a
// client. A request from any other peer keeps its peer address, whatever
// headers it carries. ClientIP (the throttles, the request log, the system
// log) then sees the client. With no trusted proxies, h is returned as it
// is.
func TrustProxies(h http.Handler, trusted []netip.Prefix) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client, ok := forwardedClient(r, trusted); ok {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient returns the client address X-Forwarded-For names, when
// the request's peer is trusted to say.
func forwardedClient(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !isTrusted(peer.Addr().Unmap(), trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not an address: written by the client, not by a proxy
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client, client.IsValid()
}
