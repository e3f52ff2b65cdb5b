package expr

import (
	"errors"
	"strings"
	"testing"
)

func TestEventFilter(t *testing.T) {
	ev := &Event{EventType: "user.lifecycle.create", OutcomeResult: "SUCCESS",
		Actor:   EventObject{ID: "00uadmin", Type: "User", AlternateID: "root@example.com", DisplayName: "Root"},
		Targets: []EventObject{{ID: "00u1", Type: "User", AlternateID: "pat@example.com", DisplayName: "Pat"}, {ID: "00g1", Type: "UserGroup", DisplayName: "Sales"}},
		Debug:   map[string]string{"changedAttributes": "department,title"}}
	cases := []struct {
		src  string
		want bool
	}{
		{"event.target.?[type eq 'UserGroup' && displayName eq 'Sales'].size()> 0", true},
		{"event.target.?[type eq 'AppUser'].size()>0", false},
		{"event.target.?[type eq 'User'].size() == 1", true},
		{"event.target.size() ge 2", true},
		{"event.eventType eq 'user.lifecycle.create' and event.outcome.result ne 'FAILURE'", true},
		{"event.actor.alternateId == \"root@example.com\"", true},
		{"event.outcome.reason == null", true},
		{"event.debugData.missing eq null", true},
		{"String.stringContains(event.debugData.changedAttributes, 'title')", true},
		{"String.stringContains(event.debugData.missing, 'title')", false},
		{"!(event.actor.type eq 'User') || event.target.?[id eq '00u1' || alternateId eq 'x'].size() > 0", true},
		{"NOT (event.actor.displayName eq 'Root')", false},
		{"true", true},
	}
	for _, c := range cases {
		f, err := CompileEventFilter(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if got := f.Match(ev); got != c.want {
			t.Errorf("%s: %v, want %v", c.src, got, c.want)
		}
	}
}

func TestEventFilterRefused(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "empty at 1:1"},
		{"event.eventType", "must be true or false, not a string at 1:1"},
		{"event.target.?[type eq 'User'].size()", "not a number at 1:1"},
		{"event.client.ipAddress eq '1.2.3.4'", "event.client cannot be filtered on at 1:1"},
		{"event.eventType eq ", "ends too early at 1:20"},
		{"event.eventType eq 'a' eq 'b'", "do not chain; combine them with && or || at 1:24"},
		{"event.target.?[kind eq 'User'].size() > 0", "unknown target field kind (a selection reads id, type, alternateId or displayName) at 1:16"},
		{"event.target.^[type eq 'User'].size() > 0", "at 1:14"},
		{"event.eventType.toUpperCase() eq 'X'", "method calls and nested fields are not supported here at 1:16"},
		{"user.login eq 'x'", "unknown name user; event hook filters read event.<field> at 1:1"},
		{"String.toUpperCase(event.eventType) eq 'X'", "String.toUpperCase is not supported in event hook filters at 1:1"},
		{"event.target eq 'x'", "cannot be compared; use .size() or a selection .?[...] at 1:14"},
		{"event.eventType > 1", "compares numbers only (such as event.target.?[...].size() > 0) at 1:17"},
		{"event.eventType eq 1", "compares a string with a number at 1:17"},
		{"event.eventType = 'x'", "use == to compare at 1:17"},
		{"(event.eventType eq 'x'", "expected ')', found end of the expression at 1:24"},
		{"event.eventType eq 'x' extra", "unexpected 'extra'; expected the end of the expression at 1:24"},
	}
	for _, c := range cases {
		_, err := CompileEventFilter(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// FuzzEventFilter: an administrator's filter text never panics, compiles
// or fails with an *Error, and a compiled filter evaluates (compiling
// proves evaluation cannot fail) over an event with and without targets.
func FuzzEventFilter(f *testing.F) {
	for _, s := range []string{
		"event.target.?[type eq 'UserGroup' && displayName eq 'Sales'].size()> 0",
		"event.eventType eq 'user.lifecycle.create' and event.outcome.result ne 'FAILURE'",
		"String.stringContains(event.debugData.changedAttributes, 'title')",
		"!(event.actor.type eq 'User') || event.target.?[id eq '00u1'].size() > 0",
		"NOT (event.actor.displayName eq 'Root')",
		"event.target.size() ge 2",
		"event.outcome.reason == null",
		"1 < 2",
		"event.target.?[",
		"'unterminated",
	} {
		f.Add(s)
	}
	full := &Event{EventType: "user.lifecycle.create", OutcomeResult: "SUCCESS",
		Actor:   EventObject{ID: "00u1", Type: "User"},
		Targets: []EventObject{{ID: "00g1", Type: "UserGroup", DisplayName: "Sales"}},
		Debug:   map[string]string{"changedAttributes": "title"}}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := CompileEventFilter(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %T %v is not an *Error", src, err, err)
			}
			return
		}
		flt.Match(full)
		flt.Match(&Event{})
	})
}
