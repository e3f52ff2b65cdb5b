package sqlstore

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReplaceJSONNUL(t *testing.T) {
	for in, want := range map[string]string{
		`"a\u0000b"`:                         `"a\ufffdb"`,
		`"\\u0000"`:                          `"\\u0000"`, // a backslash, then the text u0000
		`"\\\u0000"`:                         `"\\\ufffd"`,
		`{"x":"\u0000\u0000","y":"\u00001"}`: `{"x":"\ufffd\ufffd","y":"\ufffd1"}`,
		`"no escapes"`:                       `"no escapes"`,
		`"\u00e9\u000a"`:                     `"\u00e9\u000a"`,
	} {
		if got := string(replaceJSONNUL([]byte(in))); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func FuzzReplaceJSONNUL(f *testing.F) {
	for _, s := range []string{"a\x00b", `\u0000`, "\\\x00", "é\x00\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		var want, got string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		out := replaceJSONNUL(b)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s → %s: %v", b, out, err)
		}
		if got != strings.ReplaceAll(want, "\x00", "\uFFFD") {
			t.Fatalf("%q → %q", want, got)
		}
	})
}
