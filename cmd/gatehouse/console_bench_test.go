package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
)

// The admin console's People list and System Log at scale: the server
// time of a page (the handler, from request to the last byte, no network
// and no client) against the target of 200 ms.
//
//	GATEHOUSE_BENCH_PEOPLE   people imported through the bulk path (default 20,000)
//	GATEHOUSE_BENCH_EVENTS   system-log events added in batches of 5,000, on top of
//	                         the import's one event per person (default 20,000)
//	GATEHOUSE_BENCH_DBS      sqlite, postgres or both, comma-separated (default sqlite)
//	GATEHOUSE_BENCH_CONSOLE_DIR  keeps the SQLite database there and reuses it when it
//	                         was seeded with the same sizes (seeding 1,000,000 is slow)
//
// 1,000,000 people: GATEHOUSE_BENCH_PEOPLE=1000000 GATEHOUSE_BENCH_EVENTS=1000000
// go test ./cmd/gatehouse -run XX -bench BenchmarkConsoleAtScale -benchtime 200x -timeout 2h

func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// consoleSeed records what a kept database holds.
type consoleSeed struct {
	People, Events int
	Deep           string // a person id in the middle of the list
	DeepSeq        string // an event cursor in the middle of the log
	Actor          string // login and id of a frequent actor
	ActorID        string
	Target         string // id of a rarely targeted app
	CommonTarget   string // id of the app most events name
	WindowStart    time.Time
}

// eventMix is the shape of the seeded system log: mostly sign-ins, some
// failures, SSO, profile changes and a rare provisioning failure.
var eventMix = []struct {
	share   int // per 1,000
	typ     string
	outcome string
	message string
}{
	{600, "user.session.start", audit.Success, "User login to Gatehouse"},
	{50, "user.session.start", audit.Failure, "User login to Gatehouse"},
	{200, "user.authentication.sso", audit.Success, "User single sign on to app"},
	{145, "user.account.update_profile", audit.Success, "Update user profile for Gatehouse"},
	{5, "application.provision.user.push", audit.Failure, "Provisioning failed: connect.sync_user"},
}

// seedEvents appends m events spread over the 30 days before end, in
// batches, with actors and targets among the given people and apps.
func seedEvents(b *testing.B, ts *testServer, m int, people []*directory.User, apps []string, end time.Time) time.Duration {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	span := 30 * 24 * time.Hour
	first, step := end.Add(-span), span/time.Duration(max(m, 1))
	var batch []audit.Event
	for i := range m {
		k := rng.IntN(1000)
		mix := eventMix[0]
		for _, e := range eventMix {
			if k < e.share {
				mix = e
				break
			}
			k -= e.share
		}
		u := people[rng.IntN(len(people))]
		ev := audit.Event{UUID: newUUID(), Published: first.Add(step * time.Duration(i)).UTC(), EventType: mix.typ, Version: "0",
			Severity: audit.Info, DisplayMessage: mix.message,
			Actor:   audit.Actor{ID: u.ID, Type: "User", AlternateID: u.Login(), DisplayName: u.DisplayName()},
			Client:  audit.Client{IPAddress: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)), UserAgent: "Mozilla/5.0"},
			Outcome: audit.Outcome{Result: mix.outcome}, TransactionID: newUUID()}
		if mix.outcome == audit.Failure {
			ev.Severity, ev.Outcome.Reason = audit.Warn, "INVALID_CREDENTIALS"
		}
		ev.Target = []audit.Target{audit.UserTarget(u.ID, u.Login(), u.DisplayName())}
		if mix.typ == "user.authentication.sso" || mix.typ == "application.provision.user.push" {
			// Most SSO goes to the first app; the last one is rare.
			app := apps[0]
			if rng.IntN(100) == 0 {
				app = apps[len(apps)-1]
			}
			ev.Target = append(ev.Target, audit.AppTarget(app, "amazon_connect", "Amazon Connect"))
		}
		batch = append(batch, ev)
		if len(batch) == 5000 || i == m-1 {
			if err := ts.db.Events().AppendBatch(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return time.Since(start)
}

func BenchmarkConsoleAtScale(b *testing.B) {
	nPeople, nEvents := benchEnv("GATEHOUSE_BENCH_PEOPLE", 20000), benchEnv("GATEHOUSE_BENCH_EVENTS", 20000)
	dbs := os.Getenv("GATEHOUSE_BENCH_DBS")
	if dbs == "" {
		dbs = "sqlite"
	}
	for _, name := range strings.Split(dbs, ",") {
		pg := name == "postgres"
		b.Run(name, func(b *testing.B) {
			keep := os.Getenv("GATEHOUSE_BENCH_CONSOLE_DIR")
			if pg {
				keep = ""
			}
			ts := newTestServer(b, pg, func(c *config.Config) {
				if keep != "" {
					c.DataDir = keep
				}
			})
			seed := consoleSeed{}
			marker := filepath.Join(keep, "console-bench.json")
			if raw, err := os.ReadFile(marker); keep == "" || err != nil || json.Unmarshal(raw, &seed) != nil || seed.People != nPeople || seed.Events != nEvents {
				if _, err := ts.directory.Store.User(context.Background(), fmt.Sprintf("user%07d@example.com", nPeople-1)); keep != "" && err == nil {
					// Seeded before, the marker lost: describe what is there.
					seed = describeSeed(b, ts, nPeople, nEvents)
				} else {
					seed = seedConsole(b, ts, nPeople, nEvents)
				}
				if keep != "" {
					raw, _ := json.Marshal(seed)
					if err := os.WriteFile(marker, raw, 0o600); err != nil {
						b.Fatal(err)
					}
				}
			}
			sid := benchAdminSession(b, ts)
			h := ts.srv.Config.Handler
			serve := func(path string) (int, int) {
				req := httptest.NewRequest("GET", ts.srv.URL+path, nil)
				req.AddCookie(&http.Cookie{Name: "gh_sid", Value: sid})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				// Rows of the page's table (the header row excluded).
				return rec.Code, strings.Count(rec.Body.String(), "<tr>") - 1
			}
			q := url.QueryEscape
			// Halfway through the late prefix's matches, by the cursor a
			// Next link carries (the key is the username).
			lateHalf := fmt.Sprintf("user%07d@example.com", min(nPeople-1, (nPeople-1)/100000*100000+50000))
			mid, err := ts.directory.Store.User(context.Background(), lateHalf)
			if err != nil {
				b.Fatal(err)
			}
			mid.SearchKey = lateHalf
			window := seed.WindowStart.Format("2006-01-02T15:04")
			windowEnd := seed.WindowStart.Add(time.Hour).Format("2006-01-02T15:04")
			cases := []struct{ name, path string }{
				{"people/first", "/admin/people"},
				{"people/deep", "/admin/people?after=" + seed.Deep},
				{"people/status-active", "/admin/people?status=ACTIVE"},
				{"people/status-suspended", "/admin/people?status=SUSPENDED"},
				{"people/status-deep", "/admin/people?status=ACTIVE&after=" + seed.Deep},
				{"people/search-prefix", "/admin/people?q=user00"},
				{"people/search-prefix-late", "/admin/people?q=" + q(fmt.Sprintf("user%02d", (nPeople-1)/100000))},
				{"people/search-prefix-late-deep", "/admin/people?q=" + q(fmt.Sprintf("user%02d", (nPeople-1)/100000)) + "&after=" + q(directory.Cursor(mid))},
				{"people/search-one", "/admin/people?q=" + q(fmt.Sprintf("user%07d@", nPeople/2))},
				{"people/search-name", "/admin/people?q=First7"},
				{"people/search-none", "/admin/people?q=zzz"},
				{"people/search-status", "/admin/people?q=user00&status=SUSPENDED"},
				{"log/first", "/admin/reports/system-log"},
				{"log/deep", "/admin/reports/system-log?after=" + seed.DeepSeq},
				{"log/type-common", "/admin/reports/system-log?eventType=user.session.start"},
				{"log/type-rare", "/admin/reports/system-log?eventType=application.provision.user.push"},
				{"log/type-prefix", "/admin/reports/system-log?eventType=" + q("user.account.*")},
				{"log/outcome-failure", "/admin/reports/system-log?outcome=FAILURE"},
				{"log/actor", "/admin/reports/system-log?actor=" + q(seed.Actor)},
				{"log/target-person", "/admin/reports/system-log?target=" + q(seed.ActorID)},
				{"log/target-rare-app", "/admin/reports/system-log?target=" + q(seed.Target)},
				{"log/target-common-app", "/admin/reports/system-log?target=" + q(seed.CommonTarget)},
				{"log/hour", "/admin/reports/system-log?since=" + q(window) + "&until=" + q(windowEnd)},
				{"log/hour-failures", "/admin/reports/system-log?since=" + q(window) + "&until=" + q(windowEnd) + "&outcome=FAILURE"},
				{"log/type-and-outcome", "/admin/reports/system-log?eventType=user.session.start&outcome=FAILURE"},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					code, rows := serve(c.path)
					if code != 200 {
						b.Fatalf("%s: %d", c.path, code)
					}
					var lat []time.Duration
					for b.Loop() {
						t0 := time.Now()
						if code, _ := serve(c.path); code != 200 {
							b.Fatalf("%s: %d", c.path, code)
						}
						lat = append(lat, time.Since(t0))
					}
					p50, p99 := percentiles(lat)
					b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(p99)/float64(200*time.Millisecond), "p99/200ms")
					b.ReportMetric(float64(max(rows, 0)), "rows")
				})
			}
		})
	}
}

// seedConsole fills the directory and the system log.
func seedConsole(b *testing.B, ts *testServer, nPeople, nEvents int) consoleSeed {
	b.Helper()
	ctx := context.Background()
	d := seedUsers(b, ts, nPeople)
	b.Logf("imported %d people in %s (%.0f/s)", nPeople, d.Round(time.Second), float64(nPeople)/d.Seconds())
	// A rare status: one person in a thousand suspended (at least 60).
	page, err := ts.directory.Store.Users(ctx, directory.UserQuery{Limit: min(nPeople, 100000)})
	if err != nil {
		b.Fatal(err)
	}
	step := max(1, min(1000, len(page)/60))
	for i := 0; i < len(page); i += step {
		if _, err := ts.directory.Transition(ctx, page[i].ID, directory.OpSuspend); err != nil {
			b.Fatal(err)
		}
	}
	people := page[:min(len(page), 5000)]
	d = seedEvents(b, ts, nEvents, people, benchApps(), time.Now())
	b.Logf("appended %d events in %s (%.0f/s)", nEvents, d.Round(time.Second), float64(nEvents)/d.Seconds())
	if err := ts.db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	return describeSeed(b, ts, nPeople, nEvents)
}

// benchApps are the app ids the seeded events target.
func benchApps() []string {
	var apps []string
	for i := range 20 {
		apps = append(apps, fmt.Sprintf("0oabenchapp%09d", i))
	}
	return apps
}

// describeSeed finds the cursors and values the cases use in a seeded
// database.
func describeSeed(b *testing.B, ts *testServer, nPeople, nEvents int) consoleSeed {
	b.Helper()
	ctx := context.Background()
	first, err := ts.directory.Store.Users(ctx, directory.UserQuery{Limit: 1})
	if err != nil || len(first) == 0 {
		b.Fatalf("first person: %v", err)
	}
	// The person imported halfway (ids grow with time, so this is about
	// the middle of the list).
	half, err := ts.directory.Store.User(ctx, fmt.Sprintf("user%07d@example.com", nPeople/2))
	if err != nil {
		b.Fatalf("a person halfway: %v", err)
	}
	mid := []*directory.User{half}
	apps := benchApps()
	seed := consoleSeed{People: nPeople, Events: nEvents, Actor: first[0].Login(), ActorID: first[0].ID, Target: apps[len(apps)-1],
		CommonTarget: apps[0], Deep: mid[0].ID}
	// A cursor halfway through the log: an event of the middle of the 30
	// days the seeded events span.
	seed.WindowStart = time.Now().Add(-15 * 24 * time.Hour).UTC().Truncate(time.Hour)
	page, next, err := ts.db.Events().Query(ctx, audit.Query{Limit: 1, Since: seed.WindowStart})
	if err != nil || next == "" {
		b.Fatalf("an event halfway: %v %d %q", err, len(page), next)
	}
	seed.DeepSeq = next
	return seed
}

// benchAdminSession signs a super admin in and returns the session id.
func benchAdminSession(b *testing.B, ts *testServer) string {
	b.Helper()
	ctx := context.Background()
	u, err := ts.directory.Store.User(ctx, "root@example.com")
	if err != nil {
		u, err = ts.directory.CreateUser(ctx, directory.CreateUserInput{Profile: directory.Profile{"login": "root@example.com", "email": "root@example.com", "firstName": "R", "lastName": "T"},
			Password: "Secret-Passw0rd", Activate: true})
		if err != nil {
			b.Fatal(err)
		}
		ev := ts.events.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success)
		if err := ts.db.Tokens().GrantRole(ctx, u.ID, oktaapi.RoleSuperAdmin, ts.now(), ev); err != nil {
			b.Fatal(err)
		}
	}
	sid, _, err := ts.sessions.Start(ctx, u.ID, []string{"pwd"}, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	return sid
}
