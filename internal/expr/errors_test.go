package expr

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src  string
		kind ErrorKind
		pos  Pos
		msg  string
	}{
		{`String.toLowercase(user.login)`, KindCompile, Pos{1, 8}, "unknown function String.toLowercase at 1:8 (did you mean String.toLowerCase?)"},
		{`Strng.toLowerCase(user.login)`, KindCompile, Pos{1, 1}, "unknown function Strng.toLowerCase at 1:1 (did you mean String.toLowerCase?)"},
		{`isMemberOfGroupNames("x")`, KindCompile, Pos{1, 1}, "unknown function isMemberOfGroupNames at 1:1 (did you mean isMemberOfGroupName?)"},
		{`usr.login`, KindCompile, Pos{1, 1}, "unknown variable usr at 1:1 (did you mean user?)"},
		{`firstName + lastName`, KindCompile, Pos{1, 1}, "unknown variable firstName at 1:1 (variables are user, appuser, app, org and source, as in user.login)"},
		{`user`, KindCompile, Pos{1, 1}, "user needs an attribute name at 1:1 (for example user.login)"},
		{`user.address.city`, KindCompile, Pos{1, 14}, "nested attributes (user.address.city) are not supported at 1:14"},
		{`user.login +`, KindSyntax, Pos{1, 13}, "expression ends too early at 1:13"},
		{`user.login user.email`, KindSyntax, Pos{1, 12}, "unexpected user after the end of the expression at 1:12"},
		{`"abc`, KindSyntax, Pos{1, 1}, "unterminated string literal at 1:1"},
		{`user.login = "x"`, KindSyntax, Pos{1, 12}, "assignment is not allowed; use == to compare at 1:12"},
		{`user.login # x`, KindSyntax, Pos{1, 12}, "unexpected character '#' at 1:12"},
		{`String.substring("a")`, KindCompile, Pos{1, 1}, "String.substring expects 2 to 3 arguments, got 1 at 1:1"},
		{`String.toUpperCase()`, KindCompile, Pos{1, 1}, "String.toUpperCase expects 1 argument, got 0 at 1:1"},
		{`String.toUpperCase(user.login`, KindSyntax, Pos{1, 19}, "( is not closed at 1:19"},
		{`(user.login`, KindSyntax, Pos{1, 12}, "expected ) but found end of expression at 1:12"},
		{`${user.login`, KindSyntax, Pos{1, 1}, "placeholder ${ is not closed with } at 1:1"},
		{`Hello ${}`, KindSyntax, Pos{1, 7}, "empty ${} placeholder at 1:7"},
		{`a ${user.login} ${usr.x}`, KindCompile, Pos{1, 19}, "unknown variable usr at 1:19 (did you mean user?)"},
		{"${user.login}\n${user.login) }", KindSyntax, Pos{2, 13}, "expected } to close the placeholder but found ')' at 2:13"},
		{"user.login +\n  foo.bar", KindCompile, Pos{2, 3}, "unknown variable foo at 2:3 (variables are user, appuser, app, org and source, as in user.login)"},
		{`user.firstName ?: "x"`, KindSyntax, Pos{1, 16}, "the Elvis operator ?: is not supported at 1:16 (write x != null ? x : y instead)"},
		{`1 < 2 < 3`, KindSyntax, Pos{1, 7}, "comparisons cannot be chained at 1:7 (use AND to combine comparisons)"},
		{`{'a': 1}`, KindSyntax, Pos{1, 5}, "maps ({key: value}) are not supported at 1:5"},
		{`user.isMemberOf({'group.id': '00g1'})`, KindCompile, Pos{1, 1}, "user.isMemberOf is not supported; use isMemberOfGroupName or isMemberOfGroup at 1:1"},
		{`idpuser.subjectAltNameUpn`, KindCompile, Pos{1, 1}, "idpuser is only available in the profile mappings and username templates of identity providers at 1:1"},
		{`getManagerUser("active_directory").firstName`, KindCompile, Pos{1, 1}, "manager functions are not supported at 1:1"},
		{`Iso3166Convert.toAlpha2("IND")`, KindCompile, Pos{1, 1}, "Iso3166Convert functions are not supported at 1:1"},
		{`user.login.toUpperCase()`, KindCompile, Pos{1, 1}, "unknown function user.login.toUpperCase at 1:1"},
		{`String.toUpperCase`, KindSyntax, Pos{1, 19}, "function String.toUpperCase must be called with ( ) at 1:19"},
		{`isMemberOfGroupNameRegex("(")`, KindCompile, Pos{1, 1}, "isMemberOfGroupNameRegex: invalid regular expression \"(\": missing closing ) at 1:1"},
		{`Time.now("Mars/Olympus")`, KindCompile, Pos{1, 1}, "Time.now: unknown time zone \"Mars/Olympus\" at 1:1"},
		{`Time.now("UTC", "yyyy-QQ")`, KindCompile, Pos{1, 1}, "Time.now: unsupported format letter \"Q\" at 1:1"},
		{`user.getInternalProperty("password")`, KindCompile, Pos{1, 1}, "user.getInternalProperty: unknown property \"password\" at 1:1"},
		{``, KindSyntax, Pos{1, 1}, "expression is empty at 1:1"},
		{`12abc`, KindSyntax, Pos{1, 1}, "invalid number 12a at 1:1"},
		{`user.`, KindSyntax, Pos{1, 6}, "expected a name after '.' but found end of expression at 1:6"},
		{`1 AND`, KindSyntax, Pos{1, 6}, "expression ends too early at 1:6"},
		{`AND 1`, KindSyntax, Pos{1, 1}, "unexpected operator AND at 1:1"},
		{`"é" + usr.x`, KindCompile, Pos{1, 7}, "unknown variable usr at 1:7 (did you mean user?)"},
		// Type errors found by expr's checker, in the language's words.
		{`"a" - 1`, KindCompile, Pos{1, 5}, "invalid operation: - (mismatched types string and number) at 1:5"},
		{`true * 2`, KindCompile, Pos{1, 6}, "invalid operation: * (mismatched types boolean and number) at 1:6"},
		{`5 > null`, KindCompile, Pos{1, 3}, "invalid operation: > (mismatched types number and null) at 1:3"},
		// expr's own builtins and syntax are not reachable.
		{`len("abc")`, KindCompile, Pos{1, 1}, "unknown function len at 1:1"},
		{`filter({1, 2}, # > 1)`, KindCompile, Pos{1, 1}, "unknown function filter at 1:1"},
		{`repeat("a", 1000000)`, KindCompile, Pos{1, 1}, "unknown function repeat at 1:1"},
		{`1..1000000`, KindSyntax, Pos{1, 2}, "unexpected '.' after the end of the expression at 1:2"},
		{`"a" matches "b"`, KindSyntax, Pos{1, 5}, "unexpected matches after the end of the expression at 1:5"},
		{`1 in {1}`, KindSyntax, Pos{1, 3}, "unexpected in after the end of the expression at 1:3"},
		{`let x = 1; x`, KindCompile, Pos{1, 1}, "unknown variable let at 1:1 (variables are user, appuser, app, org and source, as in user.login)"},
		{`$add(1, 2)`, KindCompile, Pos{1, 1}, "unknown function $add at 1:1"},
		{`ctx`, KindCompile, Pos{1, 1}, "unknown variable ctx at 1:1 (variables are user, appuser, app, org and source, as in user.login)"},
		{`$env`, KindCompile, Pos{1, 1}, "unknown variable $env at 1:1 (variables are user, appuser, app, org and source, as in user.login)"},
		{`user?.login`, KindCompile, Pos{1, 1}, "user needs an attribute name at 1:1 (for example user.login)"},
		{`user.login | upper()`, KindSyntax, Pos{1, 12}, "unexpected character '|' at 1:12"},
		{"`raw`", KindSyntax, Pos{1, 1}, "unexpected character '`' at 1:1"},
		{`user.login ?? "x"`, KindSyntax, Pos{1, 13}, "unexpected '?' at 1:13"},
	}
	e := NewEngine()
	var golden strings.Builder
	for _, tc := range tests {
		_, err := e.Compile(tc.src)
		var xe *Error
		if !errors.As(err, &xe) {
			t.Errorf("Compile(%q) error = %v, want *Error", tc.src, err)
			continue
		}
		if xe.Kind != tc.kind || xe.Pos != tc.pos || err.Error() != tc.msg {
			t.Errorf("Compile(%q)\n got %v %v %q\nwant %v %v %q", tc.src, xe.Kind, xe.Pos, err.Error(), tc.kind, tc.pos, tc.msg)
		}
		fmt.Fprintf(&golden, "%q\n\t%s %s\n", tc.src, xe.Kind, err)
	}
	checkGolden(t, "compile_errors.golden", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the output; run go test -update and review the diff\n%s", path, got)
	}
}

func TestErrorsAreCachedAndStable(t *testing.T) {
	e := NewEngine()
	_, err1 := e.Compile(`usr.login`)
	err1.(*Error).Msg = "changed by a caller"
	_, err2 := e.Compile(`usr.login`)
	if err2 == nil || err2.Error() != "unknown variable usr at 1:1 (did you mean user?)" {
		t.Fatalf("the cached compile error must be returned unchanged, got %v", err2)
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Kind: KindRuntime, Msg: "boom"}
	if e.Error() != "boom" {
		t.Fatalf("Error() without position = %q", e.Error())
	}
	e = &Error{Kind: KindCompile, Pos: Pos{2, 3}, Msg: "bad", Hint: "try this"}
	if e.Error() != "bad at 2:3 (try this)" {
		t.Fatalf("Error() = %q", e.Error())
	}
	for k, s := range map[ErrorKind]string{KindSyntax: "syntax", KindCompile: "compile", KindLimit: "limit", KindRuntime: "runtime", 0: "unknown"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
}
