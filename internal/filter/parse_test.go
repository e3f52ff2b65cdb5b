package filter

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// dump renders an AST as an indented S-expression for golden files.
func dump(e Expr) string {
	var b strings.Builder
	var walk func(e Expr, indent string)
	walk = func(e Expr, indent string) {
		b.WriteString(indent)
		switch n := e.(type) {
		case *Compare:
			fmt.Fprintf(&b, "(%s %s %s:%s)\n", n.Op, n.Attr, n.Value.Kind, n.Value)
		case *Present:
			fmt.Fprintf(&b, "(pr %s)\n", n.Attr)
		case *Not:
			b.WriteString("(not\n")
			walk(n.X, indent+"  ")
			b.WriteString(indent + ")\n")
		case *Logical:
			fmt.Fprintf(&b, "(%s\n", n.Op)
			walk(n.Left, indent+"  ")
			walk(n.Right, indent+"  ")
			b.WriteString(indent + ")\n")
		default:
			fmt.Fprintf(&b, "%T\n", e)
		}
	}
	walk(e, "")
	return b.String()
}

// goldenInputs are parsed with the permissive zero Options.
var goldenInputs = []string{
	`status eq "ACTIVE"`,
	`lastUpdated gt "2013-06-01T00:00:00.000Z"`,
	`status eq "ACTIVE" or status eq "STAGED" and profile.department eq "Engineering"`,
	`(status eq "ACTIVE" or status eq "STAGED") and profile.department eq "Engineering"`,
	`a eq 1 and b eq 2 and c eq 3`,
	`a eq 1 and (b eq 2 and c eq 3)`,
	`a eq 1 or (b eq 2 or c eq 3)`,
	`not (profile.title pr) and type.id eq "oty1"`,
	`not not profile.x eq true`,
	`NOT (a EQ null) OR b Ne false`,
	`profile.employeeNumber ge 12345678901234567890 and profile.score lt -1.5e-3`,
	`profile.lastName sw "Smi" and profile.email ew "@example.com" and profile.nickName co "\"q\" \\ \/ \u00e9\ud83d\ude00\t"`,
	`  ( ( created lt "2024-01-01T00:00:00Z" ) )  `,
}

func TestParseGolden(t *testing.T) {
	var b strings.Builder
	for _, in := range goldenInputs {
		e, err := Parse(in, Options{})
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		fmt.Fprintf(&b, "input:  %s\nstring: %s\n%s\n", in, String(e), dump(e))
	}
	path := filepath.Join("testdata", "parse.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("parse output differs from %s (run go test -update after checking):\n%s", path, b.String())
	}
}

func cmp(attr string, op Op, v Value) *Compare { return &Compare{Attr: attr, Op: op, Value: v} }

func num(t *testing.T, s string) Value {
	t.Helper()
	v, err := NumberValue(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseTrees(t *testing.T) {
	active := cmp("status", OpEq, StringValue("ACTIVE"))
	staged := cmp("status", OpEq, StringValue("STAGED"))
	dept := cmp("profile.department", OpEq, StringValue("Eng"))
	tests := []struct {
		in   string
		want Expr
	}{
		{`status eq "ACTIVE"`, active},
		{`status  EQ  "ACTIVE"`, active},
		{"status\teq\n\"ACTIVE\"", active},
		{`(status eq "ACTIVE")`, active},
		{`profile.title pr`, &Present{Attr: "profile.title"}},
		// and binds tighter than or.
		{`status eq "ACTIVE" or status eq "STAGED" and profile.department eq "Eng"`,
			&Logical{Op: Or, Left: active, Right: &Logical{Op: And, Left: staged, Right: dept}}},
		{`status eq "ACTIVE" and status eq "STAGED" or profile.department eq "Eng"`,
			&Logical{Op: Or, Left: &Logical{Op: And, Left: active, Right: staged}, Right: dept}},
		{`(status eq "ACTIVE" or status eq "STAGED") and profile.department eq "Eng"`,
			&Logical{Op: And, Left: &Logical{Op: Or, Left: active, Right: staged}, Right: dept}},
		// Left associative.
		{`status eq "ACTIVE" or status eq "STAGED" or profile.department eq "Eng"`,
			&Logical{Op: Or, Left: &Logical{Op: Or, Left: active, Right: staged}, Right: dept}},
		// not binds tighter than and.
		{`not status eq "ACTIVE" and status eq "STAGED"`,
			&Logical{Op: And, Left: &Not{X: active}, Right: staged}},
		{`not (status eq "ACTIVE" and status eq "STAGED")`,
			&Not{X: &Logical{Op: And, Left: active, Right: staged}}},
		{`a eq true or b ne false or c eq null`, &Logical{Op: Or,
			Left:  &Logical{Op: Or, Left: cmp("a", OpEq, BoolValue(true)), Right: cmp("b", OpNe, BoolValue(false))},
			Right: cmp("c", OpEq, NullValue())}},
		{`n ge -0.5E+10`, cmp("n", OpGe, num(t, "-0.5E+10"))},
		{`n lt 0`, cmp("n", OpLt, num(t, "0"))},
		{`s eq "a\"b\\c\/d\u0041\n"`, cmp("s", OpEq, StringValue("a\"b\\c/dA\n"))},
		{`s eq "\ud83d\ude00"`, cmp("s", OpEq, StringValue("😀"))},
		{`s eq "héllo wörld"`, cmp("s", OpEq, StringValue("héllo wörld"))},
		{`s eq ""`, cmp("s", OpEq, StringValue(""))},
		{`_x.y_1 eq "v"`, cmp("_x.y_1", OpEq, StringValue("v"))},
		// Attribute names are case-sensitive and kept as written.
		{`Profile.Login eq "v"`, cmp("Profile.Login", OpEq, StringValue("v"))},
		// Keywords other than not may be attribute names.
		{`and eq 1`, cmp("and", OpEq, num(t, "1"))},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, Options{})
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q)\n got  %s\n want %s", tt.in, dump(got), dump(tt.want))
		}
		again, err := Parse(String(got), Options{})
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q via %q: %v", tt.in, String(got), err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		msg  string // substring
		opts Options
	}{
		{``, 0, "empty expression", Options{}},
		{`   `, 0, "empty expression", Options{}},
		{`status`, 6, "expected an operator after status, found end of expression", Options{}},
		{`status eq`, 9, "expected a value after eq", Options{}},
		{`status eq ACTIVE`, 10, "must be in double quotes", Options{}},
		{`status equals "x"`, 7, `unknown operator "equals"`, Options{}},
		{`status eq "ACTIVE`, 10, "unterminated string", Options{}},
		{`status eq "a\qb"`, 12, `unknown escape \q`, Options{}},
		{`status eq "a\u12"`, 12, `malformed \u escape`, Options{}},
		{`status eq "\ud800x"`, 11, "unpaired surrogate", Options{}},
		{"status eq \"a\x01\"", 12, "control character", Options{}},
		{`status eq "A" and`, 17, "expected an attribute name", Options{}},
		{`status eq "A" status eq "B"`, 14, "expected and, or or the end", Options{}},
		{`(status eq "A"`, 14, `missing ")" for "(" at offset 0`, Options{}},
		{`status eq "A")`, 13, `found ")"`, Options{}},
		{`(status eq "A" status`, 15, `expected and, or or ")"`, Options{}},
		{`status eq 01`, 10, "malformed number", Options{}},
		{`status eq 1.`, 10, "malformed number", Options{}},
		{`status eq 1x`, 10, "malformed number", Options{}},
		{`status eq -`, 10, "malformed number", Options{}},
		{`profile..login eq "a"`, 8, "empty segment", Options{}},
		{`profile.login. eq "a"`, 14, "empty segment", Options{}},
		{`profile.1x eq "a"`, 8, "starting with a digit", Options{}},
		{`status eq "A" & x`, 14, "unexpected character '&'", Options{}},
		{"status eq \"\xff\"", 11, "invalid UTF-8", Options{}},
		{`name sw 1`, 8, "operator sw needs a string value", Options{}},
		{`name gt true`, 8, "operator gt needs a string or number value", Options{}},
		// Restricted surfaces.
		{`profile.department eq "x"`, 0, "attribute profile.department is not supported", UsersFilterOptions()},
		{`status ne "ACTIVE"`, 7, "operator ne is not supported for status", UsersFilterOptions()},
		{`status eq "A" and not id eq "x"`, 18, "not operator is not supported", UsersFilterOptions()},
		{`a eq 1 or b eq 2`, 7, "or operator is not supported", Options{NoOr: true}},
		{`profile.x co "a"`, 10, "operator co is not supported", SearchOptions()},
		// Limits.
		{strings.Repeat("(", 33) + "a pr" + strings.Repeat(")", 33), 32, "deeper than 32", Options{}},
		{strings.Repeat("not ", 5) + "a pr", 12, "deeper than 3", Options{MaxDepth: 3}},
		{`a eq "` + strings.Repeat("x", 2100) + `"`, 2048, "longer than 2048 bytes", Options{}},
		{`a eq "xxxxx"`, 10, "longer than 10 bytes", Options{MaxLength: 10}},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in, tt.opts)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, %v; want *Error", tt.in, String(e), err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("Parse(%q) error at %d %q; want at %d containing %q", tt.in, pe.Pos, pe.Msg, tt.pos, tt.msg)
		}
		if !strings.HasPrefix(pe.Cause(), "Invalid search syntax at offset ") {
			t.Errorf("Cause() = %q", pe.Cause())
		}
	}
}

func TestOptions(t *testing.T) {
	users := UsersFilterOptions()
	for _, ok := range []string{
		`status eq "ACTIVE" or status eq "STAGED"`,
		`lastUpdated gt "2013-06-01T00:00:00.000Z" and lastUpdated lt "2014-01-01T00:00:00.000Z"`,
		`id eq "00u1" or profile.login eq "a@example.com" or profile.email eq "a@example.com"`,
		`profile.firstName eq "A" and profile.lastName eq "B"`,
	} {
		if _, err := Parse(ok, users); err != nil {
			t.Errorf("users filter rejected %q: %v", ok, err)
		}
	}
	search := SearchOptions()
	for _, ok := range []string{
		`profile.department eq "Engineering" and not (status eq "DEPROVISIONED")`,
		`profile.lastName sw "Smi"`, `type.id eq "oty1"`, `profile.manager pr`, `created ge "2024-01-01T00:00:00.000Z"`,
	} {
		if _, err := Parse(ok, search); err != nil {
			t.Errorf("search rejected %q: %v", ok, err)
		}
	}
	// Exact entries win over prefixes; longest prefix wins.
	o := Options{
		Attributes: map[string]OpSet{"profile.login": Ops(OpEq)},
		Prefixes:   map[string]OpSet{"profile.": Ops(OpEq, OpSw), "profile.x.": Ops(OpPr)},
	}
	for in, wantOK := range map[string]bool{
		`profile.login eq "a"`:       true,
		`profile.login sw "a"`:       false,
		`profile.title sw "a"`:       true,
		`profile.x.y pr`:             true,
		`profile.x.y eq "a"`:         false,
		`status eq "A"`:              false,
		`profile. eq "a"`:            false,
		`profile.title eq "a"`:       true,
		`profile.title ne "a"`:       false,
		`profile.title eq 1 or x pr`: false,
	} {
		_, err := Parse(in, o)
		if (err == nil) != wantOK {
			t.Errorf("Parse(%q) err = %v, want ok %v", in, err, wantOK)
		}
	}
}

func TestWalkAndAttrs(t *testing.T) {
	e, err := Parse(`a eq 1 and (not b pr or a ne 2) and c.d sw "x"`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	Walk(e, func(x Expr) bool {
		kinds = append(kinds, fmt.Sprintf("%T", x))
		return true
	})
	want := "*filter.Logical *filter.Logical *filter.Compare *filter.Logical *filter.Not *filter.Present *filter.Compare *filter.Compare"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("Walk order = %s\nwant %s", got, want)
	}
	// Returning false prunes the subtree.
	n := 0
	Walk(e, func(x Expr) bool {
		n++
		_, isNot := x.(*Not)
		return !isNot
	})
	if n != 7 {
		t.Fatalf("pruned walk visited %d nodes, want 7", n)
	}
	if got := strings.Join(Attrs(e), ","); got != "a,b,c.d" {
		t.Fatalf("Attrs = %s", got)
	}
}

func TestValueHelpers(t *testing.T) {
	v := StringValue("2024-02-03T04:05:06.789Z")
	if tm, ok := v.Time(); !ok || tm.Year() != 2024 || tm.Nanosecond() != 789000000 {
		t.Fatalf("Time() = %v, %v", tm, ok)
	}
	if _, ok := StringValue("yesterday").Time(); ok {
		t.Fatal("Time() accepted a non-date")
	}
	if f, ok := num(t, "-2.5e2").Float(); !ok || f != -250 {
		t.Fatalf("Float() = %v, %v", f, ok)
	}
	if _, err := NumberValue("1e"); err == nil {
		t.Fatal("NumberValue accepted 1e")
	}
	if got := StringValue("a\"b\x01\x7f").String(); got != `"a\"b\u0001\u007f"` {
		t.Fatalf("quoted = %s", got)
	}
}
