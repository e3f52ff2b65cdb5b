package eventhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// DefaultTimeout bounds each call to a hook's endpoint, as Okta's 3
// seconds.
const DefaultTimeout = 3 * time.Second

// Sender makes the outbound calls of event hooks: the verification GET and
// the delivery POSTs. It follows no redirect (a 3xx is a failure), uses no
// proxy, and refuses to connect to Gatehouse's own listeners (Own), so that
// a hook cannot be pointed at the server's admin plane by accident.
type Sender struct {
	client  *http.Client
	timeout time.Duration
}

// SenderConfig configures a Sender.
type SenderConfig struct {
	// RootCAs verify the endpoints' certificates; nil: the system roots.
	RootCAs *x509.CertPool
	// Own lists this server's listen addresses (host:port); a connection
	// to one of them, or to the same port on a loopback or local address
	// when the listener is on all interfaces, is refused.
	Own []string
	// Timeout bounds each call; 0: DefaultTimeout.
	Timeout time.Duration
}

// ErrOwnAddress is returned for a call that would reach this server.
var ErrOwnAddress = errors.New("the address is one of Gatehouse's own listeners")

// NewSender builds a Sender.
func NewSender(c SenderConfig) *Sender {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	guard := newOwnGuard(c.Own)
	dialer := &net.Dialer{Timeout: c.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err == nil && guard.refuses(ap) {
			return fmt.Errorf("connect to %s: %w", address, ErrOwnAddress)
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: c.Timeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &Sender{timeout: c.Timeout, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ownGuard knows this server's listeners.
type ownGuard struct {
	exact map[netip.AddrPort]bool
	ports map[uint16]bool // listeners on every interface
	local map[netip.Addr]bool
}

func newOwnGuard(own []string) ownGuard {
	g := ownGuard{exact: map[netip.AddrPort]bool{}, ports: map[uint16]bool{}, local: map[netip.Addr]bool{}}
	for _, a := range own {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			continue
		}
		if host == "" {
			g.ports[uint16(p)] = true
			continue
		}
		addrs := []netip.Addr{}
		if ip, err := netip.ParseAddr(host); err == nil {
			addrs = append(addrs, ip)
		} else if ips, err := net.LookupIP(host); err == nil {
			for _, ip := range ips {
				if a, ok := netip.AddrFromSlice(ip); ok {
					addrs = append(addrs, a.Unmap())
				}
			}
		}
		for _, ip := range addrs {
			if ip.IsUnspecified() {
				g.ports[uint16(p)] = true
			} else {
				g.exact[netip.AddrPortFrom(ip.Unmap(), uint16(p))] = true
			}
		}
	}
	if len(g.ports) > 0 {
		if as, err := net.InterfaceAddrs(); err == nil {
			for _, a := range as {
				if pn, err := netip.ParsePrefix(a.String()); err == nil {
					g.local[pn.Addr().Unmap()] = true
				}
			}
		}
	}
	return g
}

func (g ownGuard) refuses(ap netip.AddrPort) bool {
	ip := ap.Addr().Unmap()
	if g.exact[netip.AddrPortFrom(ip, ap.Port())] {
		return true
	}
	return g.ports[ap.Port()] && (ip.IsLoopback() || ip.IsUnspecified() || g.local[ip])
}

// CallError is a failed call: the endpoint's status, or a transport error.
type CallError struct {
	Status int // 0 for a transport error or a timeout
	Err    error
}

func (e *CallError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("the endpoint answered HTTP %d", e.Status)
	}
	return "the call failed: " + e.Err.Error()
}

func (e *CallError) Unwrap() error { return e.Err }

// Retryable reports whether Okta would retry the call: after a timeout, a
// transport error or a 5xx (and, here, 408 and 429); not after another 4xx
// or a redirect.
func (e *CallError) Retryable() bool {
	if errors.Is(e.Err, ErrOwnAddress) {
		return false
	}
	return e.Status == 0 || e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// headers sets the hook's headers and its secret header.
func setHeaders(req *http.Request, h *Hook, secret string) {
	for _, x := range h.Headers {
		req.Header.Set(x.Key, x.Value)
	}
	if h.AuthKey != "" {
		req.Header.Set(h.AuthKey, secret)
	}
	req.Header.Set("User-Agent", "Gatehouse event hooks")
}

// Deliver POSTs a payload to the hook.
func (s *Sender) Deliver(ctx context.Context, h *Hook, secret string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URI, bytes.NewReader(body))
	if err != nil {
		return &CallError{Err: err}
	}
	setHeaders(req, h, secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return &CallError{Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &CallError{Status: resp.StatusCode}
	}
	return nil
}

// Challenge sends the one-time verification request: a GET with the
// challenge in X-Okta-Verification-Challenge, answered by a JSON object
// whose verification member repeats it.
func (s *Sender) Challenge(ctx context.Context, h *Hook, secret, challenge string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URI, nil)
	if err != nil {
		return &CallError{Err: err}
	}
	setHeaders(req, h, secret)
	req.Header.Set("X-Okta-Verification-Challenge", challenge)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return &CallError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &CallError{Status: resp.StatusCode}
	}
	var answer struct {
		Verification string `json:"verification"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer); err != nil {
		return fmt.Errorf("the answer is not a JSON object with verification: %w", err)
	}
	if answer.Verification != challenge {
		return errors.New("the answer's verification does not repeat the challenge")
	}
	return nil
}
