package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/filter"
)

func importBody(login, badge string) string {
	salt := []byte("salt-" + login)
	sum := sha256.Sum256(append(append([]byte{}, salt...), "Imported-Passw0rd"...))
	b := ""
	if badge != "" {
		b = fmt.Sprintf(`,"badge":%q`, badge)
	}
	return fmt.Sprintf(`{"profile":{"login":%q,"email":%q,"firstName":"Im","lastName":"Ported","title":"Agent"%s},"credentials":{"password":{"hash":{"algorithm":"SHA-256","salt":%q,"saltOrder":"PREFIX","value":%q}}}}`,
		login, login, b, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(sum[:]))
}

// storedHash is the stored form of importBody's hash for login.
func storedHash(login string) string {
	salt := []byte("salt-" + login)
	sum := sha256.Sum256(append(append([]byte{}, salt...), "Imported-Passw0rd"...))
	return "$sha256$o=prefix$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func eventsAbout(t *testing.T, ts *testServer, userID string) []audit.Event {
	t.Helper()
	evs, _, err := ts.db.Events().Query(context.Background(), audit.Query{Limit: 100,
		Filter: &filter.Compare{Attr: "target.id", Op: filter.OpEq, Value: filter.StringValue(userID)}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func eventTypesOf(t *testing.T, ts *testServer, userID string) []string {
	t.Helper()
	var types []string
	for _, e := range eventsAbout(t, ts, userID) {
		types = append(types, e.EventType)
	}
	sort.Strings(types)
	return types
}

// TestImportUsersLikeAPI imports a file and checks that each user is what
// POST /api/v1/users?activate=true makes of the same body (status,
// profile, stored hash, events), that lines the API would refuse
// (malformed, invalid, duplicate login, duplicate unique attribute) are
// reported by line and skipped while the rest of their batch is imported,
// and that the imported password signs in, on both dialects (each writes
// a batch in multi-row statements of its own).
func TestImportUsersLikeAPI(t *testing.T) {
	onBothDBs(t, testImportUsersLikeAPI)
}

func testImportUsersLikeAPI(t *testing.T, pg bool) {
	ts := newTestServer(t, pg)
	ctx := context.Background()
	if _, err := ts.directory.SaveSchema(ctx, []directory.Attribute{{Name: "badge", Title: "Badge", Type: directory.TypeString, Unique: true}}, nil); err != nil {
		t.Fatal(err)
	}
	// Reference: the API's answer to the same body.
	r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, importBody("api@example.com", "B-api"))
	if r.status != 200 {
		t.Fatalf("API create: %d %s", r.status, r.raw)
	}
	apiUser, err := ts.directory.Store.User(ctx, "api@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if apiUser.Credentials.PasswordHash != storedHash("api@example.com") {
		t.Fatalf("the API stored %q", apiUser.Credentials.PasswordHash)
	}

	var lines []string
	for i := 0; i < 25; i++ {
		lines = append(lines, importBody(fmt.Sprintf("imp%02d@example.com", i), fmt.Sprintf("B-%02d", i)))
	}
	lines[3] = `{"profile": not json`                                   // line 4
	lines[7] = importBody("not-an-email", "")                           // line 8
	lines[12] = importBody("API@example.com", "")                       // line 13: the API user's login
	lines[18] = importBody("imp18@example.com", "B-02")                 // line 19: line 3's badge
	lines[21] = strings.Replace(lines[21], `"SHA-256"`, `"SHA-999"`, 1) // line 22: unknown algorithm
	file := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	env := map[string]string{"GATEHOUSE_DATA_DIR": ts.cfg.DataDir, "GATEHOUSE_MASTER_KEY_FILE": ts.cfg.MasterKeyFile, "GATEHOUSE_DATABASE_URL": ts.cfg.DatabaseURL}
	if err := cmdImportUsers(ctx, []string{"--file", file, "--batch", "10"}, nil, &out, &errOut, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "imported 20 users (5 refused)") {
		t.Errorf("import said %q", out.String())
	}
	for _, want := range []string{"line 4: not a JSON object", "line 8: ", "line 13: ", "line 19: ", "line 22: "} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("no report %q in:\n%s", want, errOut.String())
		}
	}
	if strings.Count(errOut.String(), "line ") != 5 {
		t.Errorf("expected 5 refused lines:\n%s", errOut.String())
	}
	for _, gone := range []string{"not-an-email", "imp18@example.com", "imp21@example.com"} {
		if _, err := ts.directory.Store.User(ctx, gone); err == nil {
			t.Errorf("refused line %s was imported", gone)
		}
	}
	if u, _ := ts.directory.Store.User(ctx, "api@example.com"); u.ID != apiUser.ID {
		t.Errorf("the duplicate login replaced the API user")
	}
	wantEvents := eventTypesOf(t, ts, apiUser.ID)
	apiEvents := map[string]audit.Event{}
	for _, e := range eventsAbout(t, ts, apiUser.ID) {
		apiEvents[e.EventType] = e
	}
	if strings.Join(wantEvents, ",") != "user.lifecycle.activate,user.lifecycle.create" {
		t.Fatalf("API user events: %v", wantEvents)
	}
	for i := 0; i < 25; i++ {
		login := fmt.Sprintf("imp%02d@example.com", i)
		if i == 3 || i == 18 || i == 21 || i == 7 || i == 12 {
			continue
		}
		u, err := ts.directory.Store.User(ctx, login)
		if err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		if u.Status != apiUser.Status || u.Credentials.Provider != apiUser.Credentials.Provider || u.Activated == nil || u.PasswordChanged == nil {
			t.Errorf("%s: status %s provider %s, API made %s %s", login, u.Status, u.Credentials.Provider, apiUser.Status, apiUser.Credentials.Provider)
		}
		if want := storedHash(login); u.Credentials.PasswordHash != want {
			t.Errorf("%s: stored hash %q, the API stores %q", login, u.Credentials.PasswordHash, want)
		}
		if len(u.Profile) != len(apiUser.Profile) || u.Profile.String("badge") != fmt.Sprintf("B-%02d", i) {
			t.Errorf("%s: profile %v, API made %v", login, u.Profile, apiUser.Profile)
		}
		if got := eventTypesOf(t, ts, u.ID); strings.Join(got, ",") != strings.Join(wantEvents, ",") {
			t.Errorf("%s: events %v, API wrote %v", login, got, wantEvents)
		}
		// The events themselves say what the API's say, about this user.
		for _, e := range eventsAbout(t, ts, u.ID) {
			if len(e.Target) != 1 || e.Target[0].ID != u.ID || e.Target[0].AlternateID != login || e.Outcome.Result != "SUCCESS" ||
				e.DisplayMessage != apiEvents[e.EventType].DisplayMessage || e.Severity != apiEvents[e.EventType].Severity {
				t.Errorf("%s: event %+v, the API wrote %+v", login, e, apiEvents[e.EventType])
			}
		}
	}
	// Every event of the log once.
	seqs := map[string]bool{}
	all, _, err := ts.db.Events().Query(ctx, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	lifecycle := 0
	for _, e := range all {
		if seqs[e.UUID] {
			t.Fatalf("event %s twice", e.UUID)
		}
		seqs[e.UUID] = true
		if strings.HasPrefix(e.EventType, "user.lifecycle.") {
			lifecycle++
		}
	}
	if lifecycle != 2+2*20 {
		t.Errorf("%d lifecycle events in the log, want %d (two per user)", lifecycle, 2+2*20)
	}
	// The unique badge is enforced afterwards too, as for API users.
	if r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, importBody("late@example.com", "B-05")); r.status != 400 {
		t.Errorf("a duplicate badge after the import: %d %s", r.status, r.raw)
	}
	// A user created the ordinary way after the import gets its events
	// (sequence numbers after the import's).
	if r := ts.call(t, "POST", "/api/v1/users?activate=true", ts.token, importBody("after@example.com", "B-after")); r.status != 200 {
		t.Errorf("a create after the import: %d %s", r.status, r.raw)
	} else if u, err := ts.directory.Store.User(ctx, "after@example.com"); err != nil || len(eventTypesOf(t, ts, u.ID)) != 2 {
		t.Errorf("the user created after the import: %v, events %v", err, eventTypesOf(t, ts, u.ID))
	}
	// The imported hash verifies at sign-in (and is then upgraded).
	b := newBrowser(t, ts.srv.URL)
	if resp, _ := b.signIn("imp05@example.com", "Imported-Passw0rd", "/"); resp.StatusCode != 303 {
		t.Errorf("sign-in with the imported password: %d", resp.StatusCode)
	}
}

// TestSIGKILLDuringImport kills `gatehouse import users` in the middle of
// a file and checks that whole batches were written: every user with both
// events, every event with its user, and the count a multiple of the batch.
func TestSIGKILLDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := gatehouseBinary(t)
	dir := t.TempDir()
	const n, batch = 60000, 500
	file := filepath.Join(dir, "users.jsonl")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		fmt.Fprintln(w, importBody(fmt.Sprintf("k%06d@example.com", i), ""))
	}
	w.Flush()
	f.Close()
	cmd := exec.Command(bin, "import", "users", "--file", file, "--batch", fmt.Sprint(batch))
	cmd.Env = append(os.Environ(), "GATEHOUSE_DATA_DIR="+filepath.Join(dir, "data"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the WAL holds a few batches.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(filepath.Join(dir, "data", "gatehouse.db-wal")); err == nil && st.Size() > 4<<20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	a, err := build(context.Background(), cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	users, err := a.directory.Store.Users(context.Background(), directory.UserQuery{Limit: n, IncludeDeprovisioned: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) == 0 || len(users) == n {
		t.Fatalf("the kill did not land mid-import: %d of %d users", len(users), n)
	}
	if len(users)%batch != 0 {
		t.Errorf("%d users: not whole batches of %d", len(users), batch)
	}
	events := map[string]map[string]bool{}
	for _, typ := range []string{"user.lifecycle.create", "user.lifecycle.activate"} {
		evs, _, err := a.db.Events().Query(context.Background(), audit.Query{Limit: n + 1,
			Filter: &filter.Compare{Attr: "eventType", Op: filter.OpEq, Value: filter.StringValue(typ)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(users) {
			t.Errorf("%d %s events for %d users", len(evs), typ, len(users))
		}
		for _, e := range evs {
			if events[e.Target[0].ID] == nil {
				events[e.Target[0].ID] = map[string]bool{}
			}
			events[e.Target[0].ID][typ] = true
		}
	}
	for _, u := range users {
		if len(events[u.ID]) != 2 || u.Status != directory.Active || !u.Credentials.HasPassword() {
			t.Fatalf("user %s is half-imported: %s, events %v", u.Login(), u.Status, events[u.ID])
		}
	}
	t.Logf("killed after %d of %d users, all whole", len(users), n)
}
