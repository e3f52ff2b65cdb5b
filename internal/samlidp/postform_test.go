package samlidp

import (
	"html"
	"strings"
	"testing"
)

func TestRenderPostForm(t *testing.T) {
	page, err := RenderPostForm(PostForm{
		URL:          "https://signin.aws.amazon.com/saml?a=1&b=2",
		MessageParam: "SAMLResponse",
		Message:      "PHNhbWw+Cg==",
		RelayState:   `https://eu-west-2.console.aws.amazon.com/connect/federate/abc?destination=%2Fx&"><script>alert(1)</script>`,
		ScriptPath:   "/static/autosubmit.js",
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		`<form method="post" action="https://signin.aws.amazon.com/saml?a=1&amp;b=2" data-saml-autosubmit>`,
		`<input type="hidden" name="SAMLResponse" value="PHNhbWw+Cg==">`,
		`<script src="/static/autosubmit.js" defer></script>`,
		`<button type="submit">Continue</button>`,
		`name="RelayState" value="https://eu-west-2.console.aws.amazon.com/connect/federate/abc?destination=%2Fx&amp;&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %s\n%s", want, s)
		}
	}
	if strings.Count(s, "<script") != 1 || strings.Contains(s, "<script>") {
		t.Errorf("page must have exactly one external script and no inline script:\n%s", s)
	}
	if !strings.Contains(AutoSubmitJS, "form[data-saml-autosubmit]") {
		t.Error("AutoSubmitJS does not target the form attribute")
	}

	page, err = RenderPostForm(PostForm{URL: "https://sp.example/acs", MessageParam: "SAMLRequest", Message: "x", ScriptPath: "/s.js"})
	if err != nil || strings.Contains(string(page), "RelayState") {
		t.Fatalf("empty RelayState should be omitted: %v", err)
	}
}

func TestRenderPostFormRefusals(t *testing.T) {
	good := PostForm{URL: "https://sp.example/acs", MessageParam: "SAMLResponse", Message: "eA==", ScriptPath: "/static/autosubmit.js"}
	for name, mutate := range map[string]func(f *PostForm){
		"javascript URL":        func(f *PostForm) { f.URL = "javascript:alert(1)" },
		"JavaScript mixed case": func(f *PostForm) { f.URL = "JaVaScRiPt:alert(1)" },
		"data URL":              func(f *PostForm) { f.URL = "data:text/html;base64,PHNjcmlwdD4=" },
		"vbscript URL":          func(f *PostForm) { f.URL = "vbscript:msgbox" },
		"http URL":              func(f *PostForm) { f.URL = "http://sp.example/acs" },
		"relative URL":          func(f *PostForm) { f.URL = "/acs" },
		"protocol-relative":     func(f *PostForm) { f.URL = "//evil.example/acs" },
		"leading space":         func(f *PostForm) { f.URL = " https://sp.example/acs" },
		"other param":           func(f *PostForm) { f.MessageParam = "x" },
		"empty message":         func(f *PostForm) { f.Message = "" },
		"external script":       func(f *PostForm) { f.ScriptPath = "https://cdn.evil/x.js" },
		"protocol-rel script":   func(f *PostForm) { f.ScriptPath = "//cdn.evil/x.js" },
		"quote in script":       func(f *PostForm) { f.ScriptPath = `/x.js" onload="alert(1)` },
	} {
		f := good
		mutate(&f)
		if _, err := RenderPostForm(f); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	dev := good
	dev.URL, dev.AllowLoopbackHTTP = "http://127.0.0.1:8080/acs", true
	if _, err := RenderPostForm(dev); err != nil {
		t.Errorf("loopback dev URL refused: %v", err)
	}
}

// FuzzPostFormRelayState: whatever the relay state, the page keeps it
// inside its attribute (no quote or angle bracket escapes it) and a
// browser's attribute decoding gives it back unchanged.
func FuzzPostFormRelayState(f *testing.F) {
	for _, s := range []string{"x", `"><script>alert(1)</script>`, "a&b='c'", "é\u2028\x00", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rs string) {
		page, err := RenderPostForm(PostForm{URL: "https://sp.example/acs?a=1&b=2", MessageParam: "SAMLResponse", Message: "PHg+PC94Pg==", RelayState: rs, ScriptPath: "/s.js"})
		if err != nil {
			t.Fatal(err)
		}
		s := string(page)
		const open = `<input type="hidden" name="RelayState" value="`
		i := strings.Index(s, open)
		if rs == "" {
			if i >= 0 {
				t.Fatal("empty relay state rendered")
			}
			return
		}
		if i < 0 {
			t.Fatalf("no relay state input:\n%s", s)
		}
		rest := s[i+len(open):]
		j := strings.Index(rest, `">`)
		if j < 0 {
			t.Fatalf("relay state attribute not closed:\n%s", s)
		}
		v := rest[:j]
		if strings.ContainsAny(v, `"<>'`) {
			t.Fatalf("unescaped character in %q", v)
		}
		if got := html.UnescapeString(v); got != rs {
			t.Fatalf("relay state %q came back as %q", rs, got)
		}
		if strings.Count(s, "<input") != 2 || strings.Count(s, "<script") != 1 {
			t.Fatalf("page structure changed:\n%s", s)
		}
	})
}
