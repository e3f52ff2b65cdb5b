package filter

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is an *Error
// with an offset inside the source, and that the canonical rendering of a
// parsed tree parses back to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range goldenInputs {
		f.Add(s)
	}
	for _, s := range []string{
		``, `(`, `)`, `not`, `a`, `a eq`, `a eq "`, `a eq "\u`, `a eq "\ud800\udc00"`, `a eq -0.0e-0`,
		`a pr or b pr and not (c pr or d pr)`, `and pr and and pr`, `or eq 1 or or eq 2`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src, Options{})
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T %v is not *Error", src, err, err)
			}
			if pe.Pos < 0 || pe.Pos > len(src) {
				t.Fatalf("Parse(%q) error offset %d outside source", src, pe.Pos)
			}
			return
		}
		if e == nil {
			t.Fatalf("Parse(%q) returned nil without error", src)
		}
		out := String(e)
		// The rendering may be longer than the source (added parentheses);
		// its nesting is never deeper.
		again, err := Parse(out, Options{MaxLength: 1 << 20})
		if err != nil {
			t.Fatalf("Parse(%q) rendered %q, which does not parse: %v", src, out, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("round trip changed the tree:\nsource %q\nrender %q\nfirst  %s\nsecond %s", src, out, dump(e), dump(again))
		}
		if String(again) != out {
			t.Fatalf("rendering is not canonical: %q then %q", out, String(again))
		}
	})
}
