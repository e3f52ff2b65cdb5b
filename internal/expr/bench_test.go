package expr

import "testing"

// Typical sources: the AWS RoleSessionName attribute value, a NameID
// template, and the group filter used for AWS role attributes.
var benchSources = []struct {
	name string
	src  string
}{
	{"RoleSessionName", `String.substringBefore(user.email, "@")`},
	{"NameIDTemplate", `${user.firstName}.${user.lastName}@${org.subdomain}.example.com`},
	{"GroupFilter", `String.join(",", Groups.startsWith("OKTA", "aws#", 100))`},
	{"Condition", `isMemberOfGroupNameStartsWith("aws") && user.status == "ACTIVE" ? appuser.samlRoles : {}`},
}

func BenchmarkCompile(b *testing.B) {
	for _, bs := range benchSources {
		b.Run(bs.name, func(b *testing.B) {
			e := NewEngine(WithCacheSize(0))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Compile(bs.src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalCached measures the hot path: a cache lookup and an
// evaluation, as a SAML response does per attribute.
func BenchmarkEvalCached(b *testing.B) {
	env := testEnv()
	for _, bs := range benchSources {
		b.Run(bs.name, func(b *testing.B) {
			e := NewEngine()
			if _, err := e.Compile(bs.src); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				p, err := e.Compile(bs.src)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Strings(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEvalCachedParallel(b *testing.B) {
	env := testEnv()
	e := NewEngine()
	src := benchSources[1].src
	if _, err := e.Compile(src); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, _ := e.Compile(src)
			if _, err := p.String(env); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
