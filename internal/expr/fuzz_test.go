package expr

import (
	"errors"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	`String.toLowerCase(user.login)`,
	`${user.firstName}.${user.lastName}@${org.subdomain}.example.com`,
	`${source.login}`,
	`http://www.okta.com/${org.externalKey}`,
	`user.firstName + " " + user.middleName`,
	`isMemberOfGroupNameStartsWith("aws") ? appuser.samlRoles : {}`,
	`String.join(",", Groups.startsWith("OKTA", "aws", 100))`,
	`isMemberOfGroupNameRegex("aws#\d{12}#.*")`,
	`Arrays.flatten(10, {20, 30}, 40)`,
	`Convert.toInt(123.6) / 0`,
	`String.stringSwitch(user.department, "d", "Sales", "s")`,
	`Time.now("EST", "YYYY-MM-dd HH:mm:ss")`,
	`user.salary > 1000000 AND !user.isContractor`,
	`'It''s' + "say ""hi"""`,
	`${ "}" }{${ {"a", "b"}[1] }}`,
	`appuser.samlRoles[0]`,
	`1 < 2 < 3`,
	`user.firstName ?: "x"`,
	"user.login +\n foo",
	`String.substring(user.login, -5, 99999999999)`,
	`Time.fromWindowsToIso8601("99999999999999999999")`,
	`{'a': 1}`,
	`"é" + '€'`,
}

// FuzzCompileEval feeds arbitrary sources through every compile mode and
// every way of evaluating. Nothing may panic, and every error must be an
// *Error.
func FuzzCompileEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	e := NewEngine(WithCacheSize(0), WithClock(func() time.Time { return fixedNow }))
	full := testEnv()
	f.Fuzz(func(t *testing.T, src string) {
		compilers := []func(string) (*Program, error){e.Compile, e.CompileTemplate, e.CompileExpression}
		for _, compile := range compilers {
			p, err := compile(src)
			if err != nil {
				var xe *Error
				if !errors.As(err, &xe) {
					t.Fatalf("Compile(%q) returned %T %v, want *Error", src, err, err)
				}
				if xe.Pos.Line < 0 || xe.Pos.Column < 0 {
					t.Fatalf("Compile(%q) bad position %v", src, xe.Pos)
				}
				continue
			}
			for _, env := range []Env{full, {}} {
				v, err := p.Eval(env)
				if err != nil {
					var xe *Error
					if !errors.As(err, &xe) {
						t.Fatalf("Eval(%q) returned %T %v, want *Error", src, err, err)
					}
					continue
				}
				_ = v.String()
				_ = v.Strings()
				switch x := v.Any().(type) {
				case nil, string, bool, int64, float64:
				case []any:
					for _, el := range x {
						switch el.(type) {
						case nil, string, bool, int64, float64:
						default:
							t.Fatalf("Eval(%q) list element of type %T", src, el)
						}
					}
				default:
					t.Fatalf("Eval(%q) returned unnormalized %T", src, x)
				}
				_, _ = p.Bool(env)
			}
		}
	})
}
