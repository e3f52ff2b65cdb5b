package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gatehouse/gatehouse/"

type pkg struct {
	ImportPath string
	Imports    []string
	Doc        string
	Name       string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rule: packages matching who may not import anything with a prefix in
// forbidden, except the packages listed in allowed.
type rule struct {
	forbidden []string
	allowed   []string // import paths (relative to the module) allowed to import them
	why       string
}

func TestDependencyRules(t *testing.T) {
	domain := []string{"internal/errs", "internal/ids", "internal/inflight", "internal/audit", "internal/directory", "internal/credential",
		"internal/filter", "internal/expr", "internal/catalog", "internal/session", "internal/provisioning", "internal/keys", "internal/mfa", "internal/policy", "internal/recovery", "internal/federation", "internal/adminrole"}
	rules := []rule{
		{forbidden: []string{"modernc.org/sqlite", "github.com/jackc/pgx"},
			allowed: []string{"internal/sqlstore", "internal/sqlstore/storetest"}, why: "only sqlstore speaks SQL"},
		{forbidden: []string{"github.com/russellhaering/goxmldsig", "github.com/beevik/etree", "github.com/crewjam/saml", "github.com/russellhaering/gosaml2"},
			allowed: []string{"internal/samlidp", "internal/awssandbox", "internal/awssandbox/samlsp", "internal/awssandbox/samltest"},
			why:     "only samlidp (and the independent sandbox) sign or verify XML"},
		{forbidden: []string{"github.com/aws/"},
			allowed: []string{"internal/integration/aws", "internal/integration/amazonconnect", "internal/awssandbox", "internal/demo"},
			why:     "only the AWS integration, the sandbox and the demo call AWS"},
	}
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if p.Doc == "" && p.Name != "main" {
			t.Errorf("%s has no package doc comment", rel)
		}
		for _, r := range rules {
			if contains(r.allowed, rel) {
				continue
			}
			for _, imp := range p.Imports {
				for _, f := range r.forbidden {
					if strings.HasPrefix(imp, f) {
						t.Errorf("%s imports %s: %s", rel, imp, r.why)
					}
				}
			}
		}
		if contains(domain, rel) {
			for _, imp := range p.Imports {
				switch imp {
				case "net/http", "database/sql", "html/template":
					t.Errorf("domain package %s imports %s", rel, imp)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
