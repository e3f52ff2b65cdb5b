package main

import (
	"encoding/json"
	"net/url"
	"testing"
)

// TestSignInEventsNameClientAndAttempt: password sign-in events carry the
// client's address and user agent and what was typed, for a wrong
// password, an unknown user and a success alike.
func TestSignInEventsNameClientAndAttempt(t *testing.T) {
	ts := newTestServer(t, false)
	ts.createUser(t, "ivy@example.com", "Secret-Passw0rd")
	b := newBrowser(t, ts.srv.URL)
	b.signIn("ivy@example.com", "Wrong-Passw0rd", "/")
	b.signIn("nobody@example.com", "Wrong-Passw0rd", "/")
	b.signIn("ivy@example.com", "Secret-Passw0rd", "/")
	r := ts.call(t, "GET", "/api/v1/logs?limit=100&filter="+url.QueryEscape(`eventType eq "user.session.start"`), ts.token, "")
	var events []struct {
		Actor  struct{ AlternateID string }
		Client struct {
			IPAddress string
			UserAgent struct{ RawUserAgent string }
		}
		Outcome struct{ Result, Reason string }
	}
	if err := json.Unmarshal([]byte(r.raw), &events); err != nil || len(events) != 3 {
		t.Fatalf("sign-in events: %v %s", err, r.raw)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Client.IPAddress != "127.0.0.1" || ev.Client.UserAgent.RawUserAgent == "" {
			t.Errorf("event without its client: %+v", ev)
		}
		seen[ev.Actor.AlternateID+" "+ev.Outcome.Result] = true
	}
	for _, want := range []string{"ivy@example.com FAILURE", "nobody@example.com FAILURE", "ivy@example.com SUCCESS"} {
		if !seen[want] {
			t.Errorf("no event %q in %v", want, seen)
		}
	}
}
