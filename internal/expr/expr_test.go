package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zoneinfo
)

var fixedNow = time.Date(2015, 7, 31, 17, 18, 37, 979_000_000, time.UTC)

// testEnv is Okta's "Winston Churchill" sample user with an AWS assignment.
func testEnv() Env {
	return Env{
		User: map[string]any{
			"id":           "00u1abcd",
			"status":       "ACTIVE",
			"login":        "winston.churchill@gmail.com",
			"email":        "winston.churchill@gmail.com",
			"firstName":    "Winston",
			"lastName":     "Churchill",
			"salary":       1200000,
			"isContractor": false,
			"department":   "Sales",
			"score":        12.5,
			"tags":         []string{"vip", "uk"},
			"empty":        "",
		},
		AppUser: map[string]any{
			"role":      "admin",
			"userName":  "wchurchill",
			"samlRoles": []any{"arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/ReadOnly"},
		},
		App: map[string]any{"awsEnvironmentType": "aws.amazon", "sessionDuration": 3600},
		Org: map[string]any{"name": "Acme", "subdomain": "acme", "externalKey": "exk1fcia6d6EMsf331d8"},
		Groups: []string{
			"aws#123456789012#Admin", "Engineering", "San Francisco", "aws-dev", "connect-agents",
		},
		GroupIDs: []string{"00g1", "00g2"},
		Now:      func() time.Time { return fixedNow },
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		// String functions, with the examples of Okta's reference.
		{`String.append("This is", " a test")`, "This is a test"},
		{`String.join(",", "This", "is", "a", "test")`, "This,is,a,test"},
		{`String.join("", "This", "is", "a", "test")`, "Thisisatest"},
		{`String.join(" ", user.firstName, user.middleName, user.lastName)`, "Winston Churchill"},
		{`String.join(";", user.tags, "x")`, "vip;uk;x"},
		{`String.len("This")`, int64(4)},
		{`String.len("héllo")`, int64(5)},
		{`String.removeSpaces("This is a test")`, "Thisisatest"},
		{`String.replace("This is a test", "is", "at")`, "That at a test"},
		{`String.replaceFirst("This is a test", "is", "at")`, "That is a test"},
		{`String.replace("a.b", ".", "")`, "ab"},
		{`String.stringContains("This is a test", "test")`, true},
		{`String.stringContains("This is a test", "doesn'tExist")`, false},
		{`String.stringContains(user.middleName, "a")`, false},
		{`String.stringSwitch("This is a test", "default", "key1", "value1")`, "default"},
		{`String.stringSwitch("This is a test", "default", "test", "value1")`, "value1"},
		{`String.stringSwitch("First match wins", "default", "absent", "value1", "wins", "value2", "match", "value3")`, "value2"},
		{`String.stringSwitch("Substrings count", "default", "ring", "value1")`, "value1"},
		{`String.substring("This is a test", 2, 9)`, "is is a"},
		{`String.substring("Bob", 0, 6)`, "Bob"},
		{`String.substring("Bob", 5, 9)`, ""},
		{`String.substring("Bob", 1)`, "ob"},
		{`String.substringAfter("abc@okta.com", "@")`, "okta.com"},
		{`String.substringBefore("abc@okta.com", "@")`, "abc"},
		{`String.substringBefore("abc", "@")`, "abc"},
		{`String.substringAfter("abc", "@")`, ""},
		{`String.toUpperCase("This")`, "THIS"},
		{`String.toLowerCase("ThiS")`, "this"},
		{`String.toLowerCase(user.middleName)`, nil},
		// Deprecated bare forms.
		{`toUpperCase(source.firstName)`, "WINSTON"},
		{`toLowerCase(source.firstName)`, "winston"},
		{`substringBefore(user.email, '@')`, "winston.churchill"},
		{`substringAfter(user.email, '@')`, "gmail.com"},
		{`substring(source.firstName, 1, 4)`, "ins"},

		// Okta's "popular expressions".
		{`user.firstName`, "Winston"},
		{`user.firstName + user.lastName`, "WinstonChurchill"},
		{`user.firstName + "." + user.lastName`, "Winston.Churchill"},
		{`substring(user.firstName, 0, 1) + user.lastName`, "WChurchill"},
		{`substring(user.firstName, 0, 1) + substring(user.lastName, 0, 6)`, "WChurch"},
		{`toLowerCase(substring( user.firstName, 0, 1)) + "." + toLowerCase(user.lastName)`, "w.churchill"},
		{`toUpperCase(substringBefore( substringAfter(user.email, "@"), ".")) + "\" + substringBefore( user.email, "@")`, `GMAIL\winston.churchill`},
		{`"XDOMAIN\" + toLowerCase(substring( user.firstName, 0, 1)) + toLowerCase(user.lastName)`, `XDOMAIN\wchurchill`},

		// Arrays.
		{`Arrays.add({10, 20, 30}, 40)`, []any{int64(10), int64(20), int64(30), int64(40)}},
		{`Arrays.remove({10, 20, 30}, 20)`, []any{int64(10), int64(30)}},
		{`Arrays.clear({10, 20, 30})`, []any{}},
		{`Arrays.get({0, 1, 2}, 0)`, int64(0)},
		{`Arrays.get({0, 1, 2}, 7)`, nil},
		{`Arrays.flatten(10, {20, 30}, 40)`, []any{int64(10), int64(20), int64(30), int64(40)}},
		{`Arrays.contains({10, 20, 30}, 10)`, true},
		{`Arrays.contains({10, 20, 30}, 50)`, false},
		{`Arrays.contains(appuser.samlRoles, "arn:aws:iam::123456789012:role/Admin")`, true},
		{`Arrays.contains(user.nothing, "x")`, false},
		{`Arrays.size({10, 20, 30})`, int64(3)},
		{`Arrays.size(NULL)`, int64(0)},
		{`Arrays.isEmpty({10, 20})`, false},
		{`Arrays.isEmpty(NULL)`, true},
		{`Arrays.isEmpty({})`, true},
		{`Arrays.isEmpty(Arrays.toCsvString(Groups.startsWith("OKTA", "nomatch", 100)))`, true},
		{`Arrays.toCsvString({"This", "is", " a ", "test"})`, "This,is, a ,test"},
		{`Arrays.toCsvString(user.tags)`, "vip,uk"},
		{`appuser.samlRoles[1]`, "arn:aws:iam::123456789012:role/ReadOnly"},
		{`appuser.samlRoles[5]`, nil},
		{`user.tags + {"new"}`, []any{"vip", "uk", "new"}},
		{`["a", "b"]`, []any{"a", "b"}},

		// Conversion.
		{`Convert.toInt("1234")`, int64(1234)},
		{`Convert.toInt(123.4)`, int64(123)},
		{`Convert.toInt(123.6)`, int64(124)},
		{`Convert.toInt(user.salary)`, int64(1200000)},
		{`Convert.toNum("3.141")`, 3.141},
		{`Convert.toNum(user.missing)`, nil},

		// Operators, literals and precedence.
		{`1 + 2 * 3`, int64(7)},
		{`(1 + 2) * 3`, int64(9)},
		{`7 / 2`, int64(3)},
		{`7.0 / 2`, 3.5},
		{`10 % 3`, int64(1)},
		{`-5 + 2`, int64(-3)},
		{`1e3`, 1000.0},
		{`"a" + 1`, "a1"},
		{`1 + "a"`, "1a"},
		{`"on: " + true`, "on: true"},
		{`'It''s'`, "It's"},
		{`"say ""hi"""`, `say "hi"`},
		{`'single' + "double"`, "singledouble"},
		{`TRUE`, true},
		{`NULL`, nil},
		{`1 == 1.0`, true},
		{`"a" != "b"`, true},
		{`"a" < "b"`, true},
		{`user.salary >= 1000000`, true},
		{`user.salary > 1000000 AND !user.isContractor`, true},
		{`user.salary > 1000000 and user.isContractor`, false},
		{`user.isContractor OR user.department == "Sales"`, true},
		{`user.isContractor || NOT (user.department eq "Sales")`, false},
		{`user.score gt 12`, true},
		{`user.department == "Sales" ? 'Sales' : 'Other'`, "Sales"},
		{`user.department == "HR" ? 'HR' : user.department == "Sales" ? 'S' : 'Other'`, "S"},
		{"user.firstName\n  + ' '\n  + user.lastName", "Winston Churchill"},

		// Null handling.
		{`user.middleName`, nil},
		{`user.middleName == null`, true},
		{`user.firstName != null`, true},
		{`user.middleName + "x"`, "x"},
		{`"x" + user.middleName + "y"`, "xy"},
		{`user.middleName + user.nickName`, nil},
		{`user.middleName != null ? user.middleName : "none"`, "none"},
		{`String.len(user.middleName) == 0 ? "" : "set"`, ""},
		{`!user.missingFlag`, true},
		{`user.missingFlag ? "y" : "n"`, "n"},
		{`user.missingFlag AND true`, false},
		{`user.empty == ""`, true},
		{`app.nothing`, nil},
		// Variables.
		{`user.id`, "00u1abcd"},
		{`user.status`, "ACTIVE"},
		{`user.getInternalProperty("id")`, "00u1abcd"},
		{`user.userName`, "wchurchill"},
		{`appuser.role`, "admin"},
		{`appUser.role`, "admin"},
		{`app.sessionDuration`, int64(3600)},
		{`org.subdomain`, "acme"},
		{`source.login`, "winston.churchill@gmail.com"},

		// Group functions.
		{`isMemberOfGroupName("Engineering")`, true},
		{`isMemberOfGroupName("engineering")`, false},
		{`isMemberOfGroup("00g2")`, true},
		{`isMemberOfGroup("Engineering")`, false},
		{`isMemberOfAnyGroup("00gX", "00g1")`, true},
		{`isMemberOfAnyGroup("Nope", "Engineering")`, true},
		{`isMemberOfAnyGroup("Nope", "00gX")`, false},
		{`isMemberOfGroupNameStartsWith("San Fr")`, true},
		{`isMemberOfGroupNameContains("gineer")`, true},
		{`isMemberOfGroupNameContains("admin")`, false},
		{`isMemberOfGroupNameRegex("aws#\d{12}#.*")`, true},
		{`isMemberOfGroupNameRegex("dev")`, false}, // whole-name match, as Java's matches()
		{`isMemberOfGroupNameRegex("aws-" + "dev")`, true},
		{`Groups.startsWith("OKTA", "aws", 100)`, []any{"aws#123456789012#Admin", "aws-dev"}},
		{`Groups.startsWith("OKTA", "aws", 1)`, []any{"aws#123456789012#Admin"}},
		{`Groups.contains("OKTA", "gent", 10)`, []any{"connect-agents"}},
		{`Groups.endsWith("0oa1", "dev", 10)`, []any{"aws-dev"}},
		{`Groups.startsWith("OKTA", "zzz", 10)`, []any{}},
		{`String.join(",", Groups.startsWith("OKTA", "aws", 100))`, "aws#123456789012#Admin,aws-dev"},
		{`isMemberOfGroupNameStartsWith("aws") ? appuser.samlRoles : {}`, []any{"arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/ReadOnly"}},

		// Time.
		{`Time.now()`, "2015-07-31T17:18:37.979Z"},
		{`Time.now("UTC")`, "2015-07-31T17:18:37.979Z"},
		{`Time.now("America/New_York")`, "2015-07-31T13:18:37.979-04:00"},
		{`Time.now("EST", "YYYY-MM-dd HH:mm:ss")`, "2015-07-31 12:18:37"},
		{`Time.now("UTC", "EEE, dd MMM yyyy hh:mm a 'UTC' Z")`, "Fri, 31 Jul 2015 05:18 PM UTC +0000"},
		{`Time.fromUnixToIso8601("1438363117")`, "2015-07-31T17:18:37.000Z"},
		{`Time.fromIso8601ToUnix("2015-07-31T17:18:37.979Z")`, "1438363117"},
		{`Time.fromWindowsToIso8601("130828367179790000")`, "2015-07-31T17:18:37.979Z"},
		{`Time.fromIso8601ToWindows("2015-07-31T17:18:37.979Z")`, "130828367179790000"},

		// Templates.
		{`${source.login}`, "winston.churchill@gmail.com"},
		{`${user.userName}`, "wchurchill"},
		{`http://www.okta.com/${org.externalKey}`, "http://www.okta.com/exk1fcia6d6EMsf331d8"},
		{`${user.firstName}.${user.lastName}@${org.subdomain}.example.com`, "Winston.Churchill@acme.example.com"},
		{`${String.toLowerCase(user.firstName)}-${user.middleName}-x`, "winston--x"},
		{`${appuser.samlRoles}`, []any{"arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/ReadOnly"}},
		{`${user.middleName}`, nil},
		{`roles: ${appuser.samlRoles}`, "roles: arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:role/ReadOnly"},
		{`${ "}" }{${ {"a", "b"}[1] }}`, "}{b}"},
		{`cost $5 ${user.department}`, "cost $5 Sales"},
		{`${user.salary > 1 ? "rich" : "poor"}!`, "rich!"},
	}

	e := NewEngine()
	env := testEnv()
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			p, err := e.Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			v, err := p.Eval(env)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.src, err)
			}
			if !reflect.DeepEqual(v.Any(), tc.want) {
				t.Fatalf("Eval(%q) = %#v, want %#v", tc.src, v.Any(), tc.want)
			}
		})
	}
}

func TestUserNameAliasFallsBackToLogin(t *testing.T) {
	e := NewEngine()
	p, err := e.Compile(`${user.userName}`)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	env.AppUser = nil
	got, err := p.String(env)
	if err != nil || got != "winston.churchill@gmail.com" {
		t.Fatalf("got %q, %v; want the login", got, err)
	}
}

func TestSourceOverride(t *testing.T) {
	e := NewEngine()
	p, err := e.Compile(`source.login`)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	env.Source = map[string]any{"login": "from-app"}
	if got, _ := p.String(env); got != "from-app" {
		t.Fatalf("source.login = %q, want from-app", got)
	}
}

func TestEmptyEnv(t *testing.T) {
	e := NewEngine(WithClock(func() time.Time { return fixedNow }))
	for src, want := range map[string]string{
		`user.login`:                                        "",
		`${user.firstName} ${user.lastName}`:                " ",
		`isMemberOfGroupName("x") ? "y" : "n"`:              "n",
		`String.join(",", Groups.contains("OKTA", "a", 5))`: "",
		`Time.now()`:    "2015-07-31T17:18:37.979Z",
		`user.userName`: "",
	} {
		p, err := e.Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		got, err := p.String(Env{})
		if err != nil || got != want {
			t.Errorf("String(%q) on empty Env = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestRendering(t *testing.T) {
	e := NewEngine()
	env := testEnv()
	tests := []struct {
		src     string
		str     string
		strs    []string
		boolean bool
	}{
		{`user.login`, "winston.churchill@gmail.com", []string{"winston.churchill@gmail.com"}, false},
		{`appuser.samlRoles`, "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:role/ReadOnly",
			[]string{"arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/ReadOnly"}, false},
		{`user.middleName`, "", nil, false},
		{`{"a", null, "b"}`, "a,b", []string{"a", "b"}, false},
		{`user.salary`, "1200000", []string{"1200000"}, false},
		{`user.score * 2`, "25", []string{"25"}, false},
		{`Convert.toNum("0.1")`, "0.1", []string{"0.1"}, false},
		{`isMemberOfGroupName("Engineering")`, "true", []string{"true"}, true},
		{`user.empty`, "", []string{""}, false},
	}
	for _, tc := range tests {
		p, err := e.Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		s, err := p.String(env)
		if err != nil || s != tc.str {
			t.Errorf("String(%q) = %q, %v; want %q", tc.src, s, err, tc.str)
		}
		ss, err := p.Strings(env)
		if err != nil || !reflect.DeepEqual(ss, tc.strs) {
			t.Errorf("Strings(%q) = %#v, %v; want %#v", tc.src, ss, err, tc.strs)
		}
		if tc.boolean || strings.HasPrefix(tc.src, "user.middleName") {
			b, err := p.Bool(env)
			if err != nil || b != tc.boolean {
				t.Errorf("Bool(%q) = %v, %v; want %v", tc.src, b, err, tc.boolean)
			}
		}
	}
	p, _ := e.Compile(`user.login`)
	if _, err := p.Bool(env); err == nil {
		t.Errorf("Bool of a string must fail")
	}
}

func TestValueKinds(t *testing.T) {
	e := NewEngine()
	env := testEnv()
	for src, want := range map[string]Kind{
		`null`: KindNull, `"a"`: KindString, `true`: KindBool, `1`: KindNumber, `1.5`: KindNumber, `{1}`: KindList,
	} {
		p, err := e.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		v, err := p.Eval(env)
		if err != nil || v.Kind() != want {
			t.Errorf("Kind(%s) = %v, %v; want %v", src, v.Kind(), err, want)
		}
	}
}

func TestCompileModes(t *testing.T) {
	e := NewEngine()
	env := testEnv()
	p, err := e.CompileTemplate("http://example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := p.String(env); s != "http://example.com/app" || !p.IsTemplate() {
		t.Fatalf("constant template = %q", s)
	}
	if _, err := e.CompileExpression("${user.login}"); err == nil {
		t.Fatal("CompileExpression must reject ${")
	}
	p, err = e.Compile(`user.login`)
	if err != nil || p.IsTemplate() || p.Source() != "user.login" {
		t.Fatalf("Compile(user.login) = %v, %v", p, err)
	}
}

func TestRuntimeErrors(t *testing.T) {
	e := NewEngine()
	env := testEnv()
	tests := []struct {
		src  string
		kind ErrorKind
		msg  string
		pos  Pos
	}{
		{`String.substring(user.login, "x", 2)`, KindRuntime, `String.substring: argument 2 must be a whole number, got "x"`, Pos{1, 1}},
		{`1 + String.toUpperCase(user.tags)`, KindRuntime, "String.toUpperCase: argument 1 must be a string, got array", Pos{1, 5}},
		{`user.tags + "x"`, KindRuntime, "cannot add an array and a string", Pos{1, 11}},
		{`Groups.startsWith("OKTA", "a", 1000)`, KindRuntime, "limit must be between 1 and 100", Pos{1, 1}},
		{`1 / 0`, KindRuntime, "division by zero", Pos{1, 3}},
		{`user.login ? 1 : 2`, KindRuntime, "expected a boolean, got string", Pos{1, 1}},
		{`Convert.toInt("12a")`, KindRuntime, `Convert.toInt: "12a" is not a whole number`, Pos{1, 1}},
		{`Time.now(user.department)`, KindRuntime, `unknown time zone "Sales"`, Pos{1, 1}},
		{`isMemberOfGroupNameRegex(user.department + "(")`, KindCompile, "invalid regular expression", Pos{1, 1}},
		{"\n  user.salary < \"a\"", KindRuntime, "", Pos{2, 15}},
		{`user.x - 1`, KindRuntime, "invalid operation: null - number", Pos{1, 8}},
		{`user.login[0]`, KindRuntime, "indexing with [ ]: argument 1 must be an array, got string", Pos{1, 11}},
	}
	for _, tc := range tests {
		p, err := e.Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		_, err = p.Eval(env)
		var xe *Error
		if !errors.As(err, &xe) {
			t.Fatalf("Eval(%q) error = %v, want *Error", tc.src, err)
		}
		if xe.Kind != tc.kind || !strings.Contains(xe.Msg, tc.msg) || xe.Pos != tc.pos {
			t.Errorf("Eval(%q) = %+v (%v); want kind %v, msg containing %q at %v", tc.src, xe, xe, tc.kind, tc.msg, tc.pos)
		}
	}
}
