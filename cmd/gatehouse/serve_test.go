package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeAdminListen runs `gatehouse serve --admin-listen`: the
// management API and /metrics answer only on the admin address; sign-in
// pages, SSO and Okta's Authentication API stay on the public one.
func TestServeAdminListen(t *testing.T) {
	dir := t.TempDir()
	public, admin := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", dir, "--listen", public, "--admin-listen", admin, "--log-level", "error"},
			strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	get := func(method, url, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "SSWS "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var v map[string]any
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s, _ := get("GET", "http://"+public+"/healthz", "", ""); s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var tok bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--data-dir", dir, "--name", "ops", "--log-level", "error"}, strings.NewReader(""), &tok, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(tok.String())

	if s, body := get("GET", "http://"+public+"/api/v1/users", token, ""); s != 404 || body["errorCode"] != "E0000008" {
		t.Fatalf("management API on the public listener: %d %v", s, body)
	}
	if s, _ := get("GET", "http://"+admin+"/api/v1/users", token, ""); s != 200 {
		t.Fatalf("management API on the admin listener: %d", s)
	}
	if s, _ := get("GET", "http://"+public+"/metrics", "", ""); s != 404 {
		t.Fatalf("/metrics on the public listener: %d", s)
	}
	if s, _ := get("GET", "http://"+admin+"/metrics", "", ""); s != 200 {
		t.Fatalf("/metrics on the admin listener: %d", s)
	}
	if s, _ := get("GET", "http://"+public+"/login", "", ""); s != 200 {
		t.Fatalf("the sign-in page on the public listener: %d", s)
	}
	// Okta's Authentication API is for people who have not signed in: it
	// stays public (an unknown user gets the same answer as a known one).
	if s, body := get("POST", "http://"+public+"/api/v1/authn/recovery/password", "", `{"username":"nobody@example.com","factorType":"EMAIL"}`); s == 404 {
		t.Fatalf("the Authentication API on the public listener: %d %v", s, body)
	}
	// So are primary authentication and the browser's own session (its
	// cookie authenticates it); the sessions of others are not.
	if s, body := get("POST", "http://"+public+"/api/v1/authn", "", `{"username":"nobody@example.com","password":"x"}`); s != 401 || body["errorCode"] != "E0000004" {
		t.Fatalf("primary authentication on the public listener: %d %v", s, body)
	}
	if s, body := get("GET", "http://"+public+"/api/v1/sessions/me", "", ""); s != 404 || body["errorCode"] != "E0000007" {
		t.Fatalf("sessions/me on the public listener: %d %v", s, body)
	}
	if s, body := get("GET", "http://"+public+"/api/v1/sessions/102abc", token, ""); s != 404 || body["errorCode"] != "E0000008" {
		t.Fatalf("another session on the public listener: %d %v", s, body)
	}
	if !strings.Contains(out.String(), "only on http://"+admin) {
		t.Fatalf("serve did not say where the management API is: %s", out.String())
	}
}
