package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var nextLinkRe = regexp.MustCompile(`<([^>]*)>; rel="next"`)

// A poller following System Log next links while events are written one
// after another sees each exactly once, in order, and every next link
// keeps the request's filter, q, limit and since.
func TestReviewSystemLogPollWhileWriting(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		since := time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
		const n = 40
		done := make(chan []string)
		go func() {
			var ids []string
			for i := 0; i < n; i++ {
				r := ts.call(t, "POST", "/api/v1/groups", ts.token, `{"profile":{"name":"poll-`+string(rune('a'+i%26))+strings.Repeat("x", i/26)+`"}}`)
				if r.status != 200 {
					t.Errorf("group: %d %s", r.status, r.raw)
				}
				ids = append(ids, str(r.body, "id"))
			}
			done <- ids
		}()
		want := url.Values{"filter": {`eventType eq "group.lifecycle.create"`}, "q": {"poll"}, "limit": {"3"}, "since": {since}}
		next := "/api/v1/logs?" + want.Encode()
		var seen []string
		var ids []string
		finished := false
		for emptyAfterDone := 0; emptyAfterDone < 2; {
			r := ts.call(t, "GET", next, ts.token, "")
			if r.status != 200 {
				t.Fatalf("poll: %d %s", r.status, r.raw)
			}
			var page []map[string]any
			mustUnmarshal(t, r.raw, &page)
			for _, e := range page {
				seen = append(seen, str(e["target"].([]any)[0], "id"))
			}
			m := nextLinkRe.FindStringSubmatch(strings.Join(r.header.Values("Link"), ","))
			if m == nil {
				t.Fatalf("polling page without a next link: %v", r.header.Values("Link"))
			}
			u, err := url.Parse(m[1])
			if err != nil {
				t.Fatal(err)
			}
			got := u.Query()
			for k := range want {
				if got.Get(k) != want.Get(k) {
					t.Fatalf("next link lost %s: %q, want %q (%s)", k, got.Get(k), want.Get(k), m[1])
				}
			}
			if len(page) > 0 && got.Get("after") == "" {
				t.Fatalf("next link without a cursor: %s", m[1])
			}
			next = u.RequestURI()
			if !finished {
				select {
				case ids = <-done:
					finished = true
				default:
				}
			} else if len(page) == 0 {
				emptyAfterDone++
			}
		}
		if strings.Join(seen, ",") != strings.Join(ids, ",") {
			t.Fatalf("poller saw %d events, %d written:\n%v\n%v", len(seen), len(ids), seen, ids)
		}
	})
}

// Bad System Log parameters get Okta's error JSON, never a 500.
func TestReviewSystemLogBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	for _, q := range []string{
		"after=x", "after=1.x", "after=99999999999999999999.1", "after=.", "after=-1", "after=1.2.3",
		"since=x", "until=2026-13-01", "since=2026-01-02&until=2026-01-01", "limit=0", "limit=1001", "limit=-1",
		"sortOrder=UP", "filter=" + url.QueryEscape(`eventType eq`), "filter=" + url.QueryEscape(`nope eq "x"`),
		"filter=" + url.QueryEscape(`eventType sw "`+strings.Repeat("a", 3000)+`"`),
	} {
		r := ts.call(t, "GET", "/api/v1/logs?"+q, ts.token, "")
		if r.status < 400 || r.status >= 500 || str(r.body, "errorCode") == "" {
			t.Errorf("%.80s: %d %.200s", q, r.status, r.raw)
		}
	}
	for _, q := range []string{"q=" + url.QueryEscape(strings.Repeat("%_\\ ", 200)), "after=0.0"} {
		if r := ts.call(t, "GET", "/api/v1/logs?"+q, ts.token, ""); r.status != 200 {
			t.Errorf("%.80s: %d %.200s", q, r.status, r.raw)
		}
	}
}
