package samlidp

import (
	"strings"
	"testing"
)

func TestParseStrict(t *testing.T) {
	ok := []string{
		`<a/>`,
		`<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:x"><b>t</b></a>`,
		"\n<a/>\n",
	}
	for _, x := range ok {
		if _, err := parseStrict([]byte(x), strictOptions{maxBytes: 1 << 20}); err != nil {
			t.Errorf("%q rejected: %v", x, err)
		}
	}
	deep := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	bad := map[string]string{
		"empty":                "",
		"DOCTYPE":              `<!DOCTYPE a><a/>`,
		"billion laughs":       `<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>`,
		"PI inside":            `<a><?php x?></a>`,
		"PI before decl":       `<?foo?><a/>`,
		"comment":              `<a><!-- c --></a>`,
		"two roots":            `<a/><b/>`,
		"text after root":      `<a/>junk`,
		"unclosed":             `<a>`,
		"invalid UTF-8":        "<a>\xff</a>",
		"UTF-16 decl":          `<?xml version="1.0" encoding="UTF-16"?><a/>`,
		"100k deep":            deep,
		"65 deep":              strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65),
		"too many attributes":  "<a " + manyAttrs(65) + "/>",
		"too many elements":    "<a>" + strings.Repeat("<b/>", MaxXMLElements) + "</a>",
		"undeclared prefix":    `<x:a/>`,
		"too big":              "<a>" + strings.Repeat("x", 2<<20) + "</a>",
		"namespace round trip": `<a xmlns:x="urn:1"><x:b xmlns:x="urn:2" x:c="1" xmlns:y="urn:1" y:c="2"/></a>`,
	}
	for name, x := range bad {
		if _, err := parseStrict([]byte(x), strictOptions{maxBytes: 1 << 20}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := parseStrict([]byte(`<a><!-- c --></a>`), strictOptions{maxBytes: 100, allowComments: true}); err != nil {
		t.Errorf("comment refused where allowed: %v", err)
	}
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("a" + strings.Repeat("x", i) + `="1" `)
	}
	return b.String()
}
