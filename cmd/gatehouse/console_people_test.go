package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
)

var personLinkRe = regexp.MustCompile(`<td><a href="/admin/people/(00u[^"]+)">`)

// TestConsolePeopleFilters: the People list filters by status and search
// together, pages with the cursor keeping the filters, refuses an unknown
// status beside its field; the group page lists the group's application
// assignments with priority and attributes. On SQLite and PostgreSQL.
func TestConsolePeopleFilters(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		testConsolePeopleFilters(t, newTestServer(t, pg))
	})
}

func testConsolePeopleFilters(t *testing.T, ts *testServer) {
	ctx := context.Background()
	b, _ := ts.adminBrowser(t, "root@example.com", "SUPER_ADMIN")
	// 60 suspended people named sus…, 10 active named sus…, 5 suspended
	// named other….
	sum := sha256.Sum256([]byte("Imported-Passw0rd"))
	hash := &credential.ImportedHash{Algorithm: "SHA-256", Value: base64.StdEncoding.EncodeToString(sum[:])}
	var batch []directory.CreateUserInput
	for i := range 75 {
		login := fmt.Sprintf("sus%03d@example.com", i)
		if i >= 70 {
			login = fmt.Sprintf("other%03d@example.com", i)
		}
		batch = append(batch, directory.CreateUserInput{Activate: true, ImportedHash: hash, Profile: directory.Profile{"login": login, "email": login, "firstName": "F", "lastName": "L"}})
	}
	if res, err := ts.directory.ImportUsers(ctx, batch); err != nil || res.Created != len(batch) {
		t.Fatal(res, err)
	}
	suspended := map[string]bool{}
	for i, in := range batch {
		u, err := ts.directory.Store.User(ctx, in.Profile.String("login"))
		if err != nil {
			t.Fatal(err)
		}
		if i < 60 || i >= 70 {
			if _, err := ts.directory.Transition(ctx, u.ID, directory.OpSuspend); err != nil {
				t.Fatal(err)
			}
			suspended[u.ID] = true
		}
	}
	ids := func(page string) []string {
		var out []string
		for _, m := range personLinkRe.FindAllStringSubmatch(page, -1) {
			out = append(out, m[1])
		}
		return out
	}
	page := b.page("/admin/people?status=SUSPENDED&q=sus", 200)
	first := ids(page)
	if len(first) != 50 {
		t.Fatalf("first page: %d people", len(first))
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(page)
	if next == nil || !strings.Contains(next[1], "status=SUSPENDED") || !strings.Contains(next[1], "q=sus") || strings.Contains(next[1], "offset") {
		t.Fatalf("next link: %v", next)
	}
	second := ids(b.page(html.UnescapeString(next[1]), 200))
	if len(second) != 10 {
		t.Fatalf("second page: %d people", len(second))
	}
	for _, id := range append(first, second...) {
		if !suspended[id] {
			t.Fatalf("%s is not suspended", id)
		}
	}
	if all := ids(b.page("/admin/people?status=SUSPENDED", 200)); len(all) != 50 {
		t.Fatalf("suspended, no search: %d", len(all))
	}
	active := ids(b.page("/admin/people?status=ACTIVE&q=sus", 200))
	if len(active) != 10 {
		t.Fatalf("active sus…: %d", len(active))
	}
	for _, id := range active {
		if suspended[id] {
			t.Fatal("a suspended person in the active list")
		}
	}
	if got := ids(b.page("/admin/people?status=DEPROVISIONED", 200)); len(got) != 0 {
		t.Fatalf("deactivated: %d", len(got))
	}
	page = b.page("/admin/people?status=ACTIVE", 200)
	checkLabels(t, "/admin/people", page)
	if !strings.Contains(page, `<option value="ACTIVE" selected>Active</option>`) {
		t.Fatal("status filter does not show its choice")
	}
	resp, body := b.get("/admin/people?status=HAPPY")
	if resp.StatusCode != 400 || !strings.Contains(fieldError(t, body, "status"), "Choose one of the listed statuses") {
		t.Fatalf("unknown status: %d", resp.StatusCode)
	}

	// The group page shows the group's app assignments.
	g, err := ts.directory.CreateGroup(ctx, "Night Shift", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := ts.catalog.CreateApp(ctx, catalog.AppInput{Name: catalog.TemplateConnect, Label: "Contact Center",
		SettingsApp: map[string]any{"region": "eu-west-2", "instanceId": connectInstance}}, catalog.CreateOptions{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	prio := 3
	if _, err := ts.catalog.AssignGroup(ctx, app.ID, g.ID, catalog.AssignGroupInput{Priority: &prio, Profile: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	page = b.page("/admin/groups/"+g.ID, 200)
	if !strings.Contains(page, `<a href="/admin/apps/`+app.ID+`">Contact Center</a>`) || !regexp.MustCompile(`<td>3</td>`).MatchString(page) ||
		!strings.Contains(page, "/admin/groups/"+g.ID+"/assign/"+app.ID) {
		t.Fatalf("group page: %.3000s", page)
	}
}

// TestPeopleSearchPaging: a prefix search, paged 50 at a time with the
// cursor, answers exactly what filtering every person would, in the order
// of the smallest matching key, then id: whether the matches are dense,
// sparse, many but all late in id order, or matching in two keys at once
// ("l": the late usernames and everyone's last name "L", 4,300 people
// tied on the key "l"), on both dialects.
func TestPeopleSearchPaging(t *testing.T) {
	onBothDBs(t, func(t *testing.T, pg bool) {
		ts := newTestServer(t, pg)
		ctx := context.Background()
		var batch []directory.CreateUserInput
		// Ids grow with time: the late people come after all the dense
		// ones in id order, a prefix whose matches cluster at the end.
		for i := range 4300 {
			login := fmt.Sprintf("dense%04d@example.com", i)
			switch {
			case i >= 2150:
				login = fmt.Sprintf("late%04d@example.com", i)
			case i%100 == 7:
				login = fmt.Sprintf("sparse%04d@example.com", i)
			}
			batch = append(batch, directory.CreateUserInput{Profile: directory.Profile{"login": login, "email": login, "firstName": "F", "lastName": "L"}})
			if len(batch) == 1000 || i == 4299 {
				if res, err := ts.directory.ImportUsers(ctx, batch); err != nil || res.Created != len(batch) {
					t.Fatal(res, err)
				}
				batch = nil
			}
		}
		for _, prefix := range []string{"dense", "sparse", "spa", "d", "late", "l", "nobody", "F"} {
			// The truth: every user, filtered here, in the order of the
			// smallest matching key, then id.
			type hit struct{ key, id string }
			var hits []hit
			after := ""
			for {
				page, err := ts.directory.Store.Users(ctx, directory.UserQuery{After: after, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range page {
					if k, ok := searchKey(u, prefix); ok {
						hits = append(hits, hit{k, u.ID})
					}
				}
				if len(page) < 1000 {
					break
				}
				after = page[len(page)-1].ID
			}
			sort.Slice(hits, func(i, j int) bool {
				if hits[i].key != hits[j].key {
					return hits[i].key < hits[j].key
				}
				return hits[i].id < hits[j].id
			})
			var want []string
			for _, h := range hits {
				want = append(want, h.id)
			}
			var got []string
			after = ""
			for {
				page, err := ts.directory.Store.Users(ctx, directory.UserQuery{Q: prefix, After: after, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range page {
					got = append(got, u.ID)
				}
				if len(page) < 50 {
					break
				}
				after = directory.Cursor(page[len(page)-1])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("q=%s: %d results, want %d", prefix, len(got), len(want))
			}
		}
	})
}

// searchKey is the key a People search orders u by: the smallest of u's
// lower-cased username, email, first and last name that starts with the
// prefix (ok is false when none does).
func searchKey(u *directory.User, prefix string) (key string, ok bool) {
	for _, v := range []string{u.Login(), u.Profile.String("email"), u.Profile.String("firstName"), u.Profile.String("lastName")} {
		if k := strings.ToLower(v); strings.HasPrefix(k, strings.ToLower(prefix)) && (!ok || k < key) {
			key, ok = k, true
		}
	}
	return key, ok
}
