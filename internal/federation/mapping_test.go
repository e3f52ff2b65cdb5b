package federation

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/expr"
)

func TestRewriteIdPUser(t *testing.T) {
	cases := []struct{ in, want string }{
		{"idpuser.email", "source.email"},
		{`String.toLowerCase(idpuser.email)`, `String.toLowerCase(source.email)`},
		{`idpuser.given_name + " " + idpuser.family_name`, `source.given_name + " " + source.family_name`},
		{`"idpuser.email"`, `"idpuser.email"`},
		{`'it\'s idpuser.x' + idpuser.x`, `'it\'s idpuser.x' + source.x`},
		{`myidpuser.email`, `myidpuser.email`},
		{`appuser.email`, `appuser.email`},
		{`${idpuser.email}`, `${source.email}`},
	}
	for _, c := range cases {
		if got := rewriteIdPUser(c.in); got != c.want {
			t.Errorf("rewrite(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzRewriteIdPUser(f *testing.F) {
	for _, s := range []string{"idpuser.email", `"idpuser.x" + idpuser.y`, `'\'' + idpuser.a`, "${idpuser.a}.${idpuser.b}", `"unterminated idpuser.`} {
		f.Add(s)
	}
	eng := expr.NewEngine()
	f.Fuzz(func(t *testing.T, src string) {
		once := rewriteIdPUser(src)
		if rewriteIdPUser(once) != once {
			t.Fatalf("not idempotent: %q -> %q", src, once)
		}
		if len(once) > len(src)*2+8 {
			t.Fatalf("grew too much: %q -> %q", src, once)
		}
		// Whatever admins write compiles or fails cleanly.
		_, _ = eng.Compile(once)
	})
}

func TestMapProfileShapes(t *testing.T) {
	s := &Service{Expr: expr.NewEngine()}
	google := map[string]any{"sub": "1", "email": "Ann@Example.com", "email_verified": true, "given_name": "Ann", "family_name": "Lee", "hd": "example.com"}
	linkedin := map[string]any{"sub": "x", "email": "lee@example.com", "email_verified": true, "given_name": "Lee", "family_name": "Park",
		"locale": map[string]any{"country": "US", "language": "en"}}
	p := &IdP{Name: "Acme"}
	got, err := s.MapProfile(p, google)
	if err != nil || got["login"] != "Ann@Example.com" || got["firstName"] != "Ann" || got["lastName"] != "Lee" || got["email"] != "Ann@Example.com" {
		t.Fatalf("google default mapping: %v %v", got, err)
	}
	p.Provisioning.ProfileMapping = map[string]string{
		"login":       "String.toLowerCase(idpuser.email)",
		"firstName":   "idpuser.given_name",
		"lastName":    "idpuser.family_name",
		"displayName": `idpuser.given_name + " " + idpuser.family_name`,
		"nickName":    "idpuser.nickname",
	}
	got, err = s.MapProfile(p, linkedin)
	if err != nil || got["login"] != "lee@example.com" || got["displayName"] != "Lee Park" {
		t.Fatalf("linkedin mapping: %v %v", got, err)
	}
	if _, ok := got["nickName"]; ok {
		t.Fatal("an absent claim mapped to a value")
	}
	p.Subject.UserNameTemplate = `String.substringBefore(idpuser.email, "@")`
	if n, err := s.UserName(p, linkedin); err != nil || n != "lee" {
		t.Fatalf("username: %q %v", n, err)
	}
}

func TestCheckIssuerURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://accounts.google.com", true},
		{"https://www.linkedin.com/oauth", true},
		{"http://127.0.0.1:8080/realms/x", true},
		{"http://localhost:9000", true},
		{"http://login.example.com", false},
		{"ftp://login.example.com", false},
		{"not a url", false},
		{"https://login.example.com?x=1", false},
		{"https://user:pw@login.example.com", false},
		{"/relative", false},
	} {
		if got := checkIssuerURL(c.url) == ""; got != c.ok {
			t.Errorf("%s: ok=%v, want %v", c.url, got, c.ok)
		}
	}
	if !strings.HasPrefix(WellKnownIssuer(LinkedIn), "https://www.linkedin.com/oauth") || WellKnownIssuer(OIDC) != "" {
		t.Fatal("well-known issuers")
	}
}
