package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// hookReceiver is an event hook endpoint: an HTTPS server (its own CA) that
// answers the verification challenge and records the deliveries.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// fail is how many POSTs still get a 500; failAll answers every POST
	// with a 500; badAnswer answers the challenge wrongly.
	fail      int
	failAll   bool
	badAnswer bool
	gets      []http.Header
	posts     []hookPost
}

type hookPost struct {
	header http.Header
	body   map[string]any
	failed bool
}

func newHookReceiver(t *testing.T) (*hookReceiver, func(*config.Config)) {
	rc := &hookReceiver{}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	caFile := filepath.Join(t.TempDir(), "hook-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return rc, func(c *config.Config) { c.EventHookCAFile = caFile }
}

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		rc.gets = append(rc.gets, r.Header.Clone())
		answer := r.Header.Get("X-Okta-Verification-Challenge")
		if rc.badAnswer {
			answer = "something else"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"verification": answer})
	case http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		p := hookPost{header: r.Header.Clone()}
		json.Unmarshal(b, &p.body)
		if rc.failAll || rc.fail > 0 {
			rc.fail--
			p.failed = true
			rc.posts = append(rc.posts, p)
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		rc.posts = append(rc.posts, p)
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "no", http.StatusMethodNotAllowed)
	}
}

func (rc *hookReceiver) set(f func(rc *hookReceiver)) { rc.mu.Lock(); f(rc); rc.mu.Unlock() }

func (rc *hookReceiver) snapshot() ([]http.Header, []hookPost) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]http.Header(nil), rc.gets...), append([]hookPost(nil), rc.posts...)
}

// events returns the delivered events (of successful POSTs) in order.
func (p hookPost) events() []map[string]any {
	data, _ := p.body["data"].(map[string]any)
	list, _ := data["events"].([]any)
	out := []map[string]any{}
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

// waitPost waits until a successful POST carries an event that match
// accepts, and returns that POST and event.
func (rc *hookReceiver) waitPost(t *testing.T, what string, match func(ev map[string]any) bool) (hookPost, map[string]any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, posts := rc.snapshot()
		for _, p := range posts {
			if p.failed {
				continue
			}
			for _, ev := range p.events() {
				if match(ev) {
					return p, ev
				}
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no delivery of %s", what)
	return hookPost{}, nil
}

func eventIs(typ, display string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["eventType"] != typ {
			return false
		}
		if display == "" {
			return true
		}
		b, _ := json.Marshal(ev["target"])
		return strings.Contains(string(b), display)
	}
}

func (ts *testServer) group(t *testing.T, name string) string {
	t.Helper()
	r := ts.call(t, "POST", "/api/v1/groups", ts.token, fmt.Sprintf(`{"profile":{"name":%q}}`, name))
	if r.status != 200 {
		t.Fatalf("create group: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

// TestEventHooks drives the Event Hooks API with the Okta Go SDK against a
// real HTTPS receiver: create (ACTIVE, UNVERIFIED, no secret in the
// answer), nothing delivered before verification, verify, deliveries in
// Okta's payload with the secret header and the System Log's own event
// objects, a retry after a 500 with the same eventId, sign-on events
// written by the group-commit log, nothing for an inactive hook, delete only
// when inactive.
func TestEventHooks(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		rc, tweak := newHookReceiver(t)
		ts := newTestServer(t, pg, tweak)
		ts.delivery.SetRetry([]time.Duration{20 * time.Millisecond})
		ctx := context.Background()
		c := sdkClient(t, ts)

		hook := okta.EventHook{
			Name:   "Audit sink",
			Events: okta.EventSubscriptions{Type: "EVENT_TYPE", Items: []string{"group.lifecycle.create", "user.lifecycle.create", "user.authentication.sso"}},
			Channel: okta.EventHookChannel{Type: "HTTP", Version: "1.0.0", Config: okta.EventHookChannelConfig{
				Uri:        rc.srv.URL + "/okta/events",
				Headers:    []okta.EventHookChannelConfigHeader{{Key: okta.PtrString("X-Other-Header"), Value: okta.PtrString("other-value")}},
				AuthScheme: &okta.EventHookChannelConfigAuthScheme{Type: okta.PtrString("HEADER"), Key: okta.PtrString("Authorization"), Value: okta.PtrString("Bearer s3cret-hook")},
			}},
		}
		created, _, err := c.EventHookAPI.CreateEventHook(ctx).EventHook(hook).Execute()
		if err != nil {
			t.Fatalf("create: %s", oktaErrorCode(err))
		}
		id := created.GetId()
		if !strings.HasPrefix(id, "who") || created.GetStatus() != "ACTIVE" || created.GetVerificationStatus() != "UNVERIFIED" {
			t.Fatalf("created %s %s %s", id, created.GetStatus(), created.GetVerificationStatus())
		}
		as := created.Channel.Config.AuthScheme
		if as == nil || as.GetKey() != "Authorization" || as.GetType() != "HEADER" || as.Value != nil {
			t.Fatalf("authScheme in the answer: %+v", as)
		}
		raw := ts.call(t, "GET", "/api/v1/eventHooks/"+id, ts.token, "")
		if strings.Contains(raw.raw, "s3cret-hook") || raw.status != 200 {
			t.Fatalf("GET: %d, secret rendered: %s", raw.status, raw.raw)
		}
		if sealed, err := ts.db.EventHooks().EventHook(ctx, id); err != nil || strings.Contains(sealed.AuthSealed, "s3cret") || sealed.AuthSealed == "" {
			t.Fatalf("stored secret %q (%v)", sealed.AuthSealed, err)
		}

		// Unverified: an event of a subscribed type is not delivered.
		ts.group(t, "before-verify")

		if _, _, err := c.EventHookAPI.VerifyEventHook(ctx, id).Execute(); err == nil {
			// fine: verified on the first try
		} else {
			t.Fatalf("verify: %s", oktaErrorCode(err))
		}
		got, _, err := c.EventHookAPI.GetEventHook(ctx, id).Execute()
		if err != nil || got.GetVerificationStatus() != "VERIFIED" {
			t.Fatalf("after verify: %v %v", got.GetVerificationStatus(), err)
		}
		gets, _ := rc.snapshot()
		if len(gets) != 1 || len(gets[0].Get("X-Okta-Verification-Challenge")) < 20 || gets[0].Get("Authorization") != "Bearer s3cret-hook" {
			t.Fatalf("verification requests: %v", gets)
		}

		u := ts.createUser(t, "hooked@example.com", "Secret-Passw0rd")
		post, ev := rc.waitPost(t, "user.lifecycle.create", eventIs("user.lifecycle.create", "hooked@example.com"))
		if post.header.Get("Authorization") != "Bearer s3cret-hook" || post.header.Get("X-Other-Header") != "other-value" ||
			!strings.HasPrefix(post.header.Get("Content-Type"), "application/json") {
			t.Errorf("delivery headers: %v", post.header)
		}
		for k, want := range map[string]any{"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
			"contentType": "application/json", "source": ts.cfg.EffectiveBaseURL() + "/api/v1/eventHooks/" + id} {
			if post.body[k] != want {
				t.Errorf("payload %s = %v, want %v", k, post.body[k], want)
			}
		}
		if s, _ := post.body["eventId"].(string); len(s) != 36 {
			t.Errorf("eventId %v", post.body["eventId"])
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(post.body["eventTime"])); err != nil {
			t.Errorf("eventTime %v", post.body["eventTime"])
		}
		// The event exactly as GET /api/v1/logs returns it.
		logs := ts.call(t, "GET", "/api/v1/logs?filter="+url.QueryEscape(`uuid eq "`+ev["uuid"].(string)+`"`), ts.token, "")
		var fromLog []map[string]any
		if err := json.Unmarshal([]byte(logs.raw), &fromLog); err != nil || len(fromLog) != 1 || !reflect.DeepEqual(fromLog[0], ev) {
			t.Errorf("delivered event differs from the System Log's:\n%v\n%s", ev, logs.raw)
		}
		_, posts := rc.snapshot()
		for _, p := range posts {
			for _, e := range p.events() {
				if b, _ := json.Marshal(e); strings.Contains(string(b), "before-verify") {
					t.Errorf("an event of the unverified hook was delivered: %s", b)
				}
			}
		}

		// A 500: retried, with the same eventId.
		rc.set(func(rc *hookReceiver) { rc.fail = 1 })
		ts.group(t, "retried-group")
		post, _ = rc.waitPost(t, "the retried group", eventIs("group.lifecycle.create", "retried-group"))
		_, posts = rc.snapshot()
		var failedIDs []any
		for _, p := range posts {
			if p.failed {
				failedIDs = append(failedIDs, p.body["eventId"])
			}
		}
		if len(failedIDs) != 1 || failedIDs[0] != post.body["eventId"] {
			t.Errorf("failed attempts %v, delivered eventId %v", failedIDs, post.body["eventId"])
		}

		// Sign-on events, written by the group-commit event log.
		appID, app := ts.newSAMLApp(t, "Hooked app", "")
		ts.assign(t, appID, u.ID)
		link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
		b := newBrowser(t, ts.srv.URL)
		b.signIn("hooked@example.com", "Secret-Passw0rd", "/")
		if resp, body := b.get(link); resp.StatusCode != 200 || !samlRespRe.MatchString(body) {
			t.Fatalf("launch: %d", resp.StatusCode)
		}
		rc.waitPost(t, "user.authentication.sso", eventIs("user.authentication.sso", "hooked@example.com"))

		// Replacing without the secret's value keeps it (same uri and key)
		// and the verification; a new uri unverifies.
		got.Channel.Config.AuthScheme.Value = nil
		got.Name = "Audit sink 2"
		replaced, _, err := c.EventHookAPI.ReplaceEventHook(ctx, id).EventHook(*got).Execute()
		if err != nil || replaced.GetName() != "Audit sink 2" || replaced.GetVerificationStatus() != "VERIFIED" {
			t.Fatalf("replace: %v %s", replaced, oktaErrorCode(err))
		}

		// Active hooks cannot be deleted.
		if r := ts.call(t, "DELETE", "/api/v1/eventHooks/"+id, ts.token, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
			t.Fatalf("delete an active hook: %d %s", r.status, r.raw)
		}
		if h, _, err := c.EventHookAPI.DeactivateEventHook(ctx, id).Execute(); err != nil || h.GetStatus() != "INACTIVE" {
			t.Fatalf("deactivate: %v", err)
		}
		ts.group(t, "while-inactive")
		if h, _, err := c.EventHookAPI.ActivateEventHook(ctx, id).Execute(); err != nil || h.GetStatus() != "ACTIVE" {
			t.Fatalf("activate: %v", err)
		}
		ts.group(t, "after-reactivation")
		rc.waitPost(t, "after-reactivation", eventIs("group.lifecycle.create", "after-reactivation"))
		_, posts = rc.snapshot()
		for _, p := range posts {
			for _, e := range p.events() {
				if b, _ := json.Marshal(e); strings.Contains(string(b), "while-inactive") {
					t.Errorf("an event of the inactive hook was delivered: %s", b)
				}
			}
		}

		list, _, err := c.EventHookAPI.ListEventHooks(ctx).Execute()
		if err != nil || len(list) != 1 || list[0].GetId() != id {
			t.Fatalf("list: %v %v", list, err)
		}
		c.EventHookAPI.DeactivateEventHook(ctx, id).Execute()
		if _, err := c.EventHookAPI.DeleteEventHook(ctx, id).Execute(); err != nil {
			t.Fatalf("delete: %s", oktaErrorCode(err))
		}
		if _, _, err := c.EventHookAPI.GetEventHook(ctx, id).Execute(); oktaErrorCode(err) != "E0000007" {
			t.Fatalf("get a deleted hook: %s", oktaErrorCode(err))
		}
		for _, typ := range []string{"event_hook.created", "event_hook.verified", "event_hook.updated", "event_hook.deactivated", "event_hook.activated", "event_hook.deleted"} {
			if !strings.Contains(ts.logEvents(t, `eventType eq "`+typ+`"`), id) {
				t.Errorf("no %s event for the hook", typ)
			}
		}
	})
}

// TestEventHookValidation: Okta's E0000001 with a cause per problem, and
// nothing stored; a failed verification leaves the hook UNVERIFIED.
func TestEventHookValidation(t *testing.T) {
	rc, tweak := newHookReceiver(t)
	ts := newTestServer(t, false, tweak)
	body := func(uri, types, auth string) string {
		return fmt.Sprintf(`{"name":"x","events":{"type":"EVENT_TYPE","items":[%s]},"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":%q%s}}}`, types, uri, auth)
	}
	for _, c := range []struct{ name, body, cause string }{
		{"http", body("http://hooks.example.com/x", `"user.lifecycle.create"`, ""), "channel.config.uri"},
		{"no scheme", body("hooks.example.com/x", `"user.lifecycle.create"`, ""), "channel.config.uri"},
		{"unknown type", body(rc.srv.URL, `"user.lifecycle.nonsense"`, ""), "user.lifecycle.nonsense"},
		{"own events", body(rc.srv.URL, `"event_hook.delivery"`, ""), "event_hook.delivery"},
		{"no types", body(rc.srv.URL, ``, ""), "events.items"},
		{"secret without value", body(rc.srv.URL, `"user.lifecycle.create"`, `,"authScheme":{"type":"HEADER","key":"Authorization"}`), "authScheme.value"},
		{"reserved header", body(rc.srv.URL, `"user.lifecycle.create"`, `,"headers":[{"key":"Host","value":"x"}]`), "headers"},
		{"filter", `{"name":"x","events":{"type":"EVENT_TYPE","items":["user.lifecycle.create"],"filter":{"type":"EXPRESSION_LANGUAGE","eventFilterMap":[{"event":"user.lifecycle.create","condition":{"expression":"event.target.?[type eq 'User'].size()"}}]}},"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"` + rc.srv.URL + `"}}}`, "condition.expression: the filter must be true or false, not a number at 1:1"},
	} {
		r := ts.call(t, "POST", "/api/v1/eventHooks", ts.token, c.body)
		if r.status != 400 || r.body["errorCode"] != "E0000001" || !strings.Contains(r.raw, c.cause) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
	if r := ts.call(t, "GET", "/api/v1/eventHooks", ts.token, ""); strings.TrimSpace(r.raw) != "[]" {
		t.Fatalf("refused hooks were stored: %s", r.raw)
	}
	r := ts.call(t, "POST", "/api/v1/eventHooks", ts.token, body(rc.srv.URL, `"user.lifecycle.create"`, ""))
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	rc.set(func(rc *hookReceiver) { rc.badAnswer = true })
	if v := ts.call(t, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", ts.token, ""); v.status != 400 || v.body["errorCode"] != "E0000001" {
		t.Fatalf("verify with a wrong answer: %d %s", v.status, v.raw)
	}
	if g := ts.call(t, "GET", "/api/v1/eventHooks/"+id, ts.token, ""); g.body["verificationStatus"] != "UNVERIFIED" {
		t.Fatalf("after a failed verification: %s", g.raw)
	}
	if gets, _ := rc.snapshot(); len(gets) != 2 {
		t.Errorf("verification requests: %d, want 2 (one retry, as Okta)", len(gets))
	}
	// A hook pointed at Gatehouse's own listener is never called.
	own := ts.call(t, "PUT", "/api/v1/eventHooks/"+id, ts.token, body("https://"+ts.cfg.Listen+"/api/v1/users", `"user.lifecycle.create"`, ""))
	if own.status != 200 {
		t.Fatalf("replace: %d %s", own.status, own.raw)
	}
	if v := ts.call(t, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", ts.token, ""); v.status != 400 || !strings.Contains(v.raw, "own listeners") {
		t.Fatalf("verify against the server itself: %d %s", v.status, v.raw)
	}
}

// TestEventHookDeliveryFailure: a hook that keeps failing gets its
// attempts and then an event_hook.delivery failure in the System Log.
func TestEventHookDeliveryFailure(t *testing.T) {
	rc, tweak := newHookReceiver(t)
	ts := newTestServer(t, false, tweak)
	ts.delivery.SetRetry([]time.Duration{10 * time.Millisecond})
	r := ts.call(t, "POST", "/api/v1/eventHooks", ts.token, `{"name":"down","events":{"type":"EVENT_TYPE","items":["group.lifecycle.create"]},
		"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"`+rc.srv.URL+`"}}}`)
	id := r.body["id"].(string)
	if v := ts.call(t, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", ts.token, ""); v.status != 200 {
		t.Fatalf("verify: %d %s", v.status, v.raw)
	}
	rc.set(func(rc *hookReceiver) { rc.failAll = true })
	ts.group(t, "never-delivered")
	ev := ts.waitLogEvents(t, `eventType eq "event_hook.delivery"`, id, 15*time.Second)
	if !strings.Contains(ev, id) || !strings.Contains(ev, "FAILURE") || !strings.Contains(ev, "HTTP 500") {
		t.Fatalf("no delivery failure event: %s", ev)
	}
	if _, posts := rc.snapshot(); len(posts) != 4 {
		t.Errorf("%d attempts, want 4", len(posts))
	}
}

// TestEventHooksAcrossNodes: a hook created and verified through node a
// receives the events written on node b once b has reread the hooks (its
// periodic refresh), and none once it is deactivated on a.
func TestEventHooksAcrossNodes(t *testing.T) {
	rc, tweak := newHookReceiver(t)
	c := newCluster(t, clusterOptions{tweak: tweak})
	a, b := c.nodes[0], c.nodes[1]
	r := a.call(t, "POST", "/api/v1/eventHooks", a.token, `{"name":"cluster","events":{"type":"EVENT_TYPE","items":["group.lifecycle.create"]},
		"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"`+rc.srv.URL+`"}}}`)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	if v := a.call(t, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", a.token, ""); v.status != 200 {
		t.Fatalf("verify: %d %s", v.status, v.raw)
	}
	time.Sleep(3 * clusterHookRefresh)
	b.group(t, "written-on-b")
	rc.waitPost(t, "the group written on node b", eventIs("group.lifecycle.create", "written-on-b"))
	if v := a.call(t, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", a.token, ""); v.status != 200 {
		t.Fatalf("deactivate: %d %s", v.status, v.raw)
	}
	time.Sleep(3 * clusterHookRefresh)
	b.group(t, "after-deactivation")
	jobs, _, err := b.queue.List(context.Background(), provisioning.Filter{Kind: eventhook.KindDeliver}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if strings.Contains(string(j.Payload), "after-deactivation") {
			t.Fatalf("node b enqueued a delivery to the deactivated hook: %s", j.ID)
		}
	}
}

// TestEventHookLimit: an org has at most 25 hooks.
func TestEventHookLimit(t *testing.T) {
	ts := newTestServer(t, false)
	body := `{"name":"n","events":{"type":"EVENT_TYPE","items":["user.lifecycle.create"]},"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"https://hooks.example.com/"}}}`
	for i := 0; i < eventhook.MaxHooks; i++ {
		if r := ts.call(t, "POST", "/api/v1/eventHooks", ts.token, body); r.status != 200 {
			t.Fatalf("hook %d: %d %s", i, r.status, r.raw)
		}
	}
	if r := ts.call(t, "POST", "/api/v1/eventHooks", ts.token, body); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("hook 26: %d %s", r.status, r.raw)
	}
}
