package aws

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// TestTrustPolicyGolden parses every policy under testdata/trust and compares
// the SAML providers it allows (or the error) with the .golden file beside it.
func TestTrustPolicyGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/trust/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			doc, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			p, err := ParseTrustPolicy(string(doc))
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				for _, a := range p.SAMLProviders() {
					got += a + "\n"
				}
				if got == "" {
					got = "(no SAML providers)\n"
				}
			}
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	if n < 8 {
		t.Fatalf("only %d trust policies under testdata", n)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "sts:x", true}, {"sts:*", "sts:assumerolewithsaml", true},
		{"sts:assumerole*", "sts:assumerolewithsaml", true}, {"sts:assumerole", "sts:assumerolewithsaml", false},
		{"sts:assume?olewithsaml", "sts:assumerolewithsaml", true}, {"*saml", "sts:assumerolewithsaml", true},
		{"*a*b", "aaab", true}, {"*a*b", "aaac", false}, {"", "", true}, {"", "a", false}, {"a**", "a", true},
	} {
		if got := wildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func FuzzParseTrustPolicy(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/trust/*")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil && !strings.HasSuffix(s, ".golden") {
			f.Add(string(b))
		}
	}
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:saml-provider/x"},"Action":"*******************************a"}]}`)
	f.Add(`%7B%22Statement%22%3A%7B%7D%7D`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParseTrustPolicy(doc)
		if err != nil {
			return
		}
		// Every provider returned comes from an Allow statement's
		// Federated principals and is a saml-provider ARN.
		fed := map[string]bool{}
		for _, s := range p.Statements {
			if s.Effect == "Allow" {
				for _, f := range s.Federated {
					fed[f] = true
				}
			}
		}
		seen := map[string]bool{}
		for _, a := range p.SAMLProviders() {
			if !fed[a] || !strings.Contains(a, ":saml-provider/") || seen[a] {
				t.Fatalf("provider %q not from an Allow statement, or repeated", a)
			}
			seen[a] = true
		}
	})
}
