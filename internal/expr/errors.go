package expr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
)

// ErrorKind tells where an Error was found.
type ErrorKind uint8

const (
	// KindSyntax: the source is not well formed (bad token, missing bracket).
	KindSyntax ErrorKind = iota + 1
	// KindCompile: well formed but refers to something that does not exist
	// (unknown variable or function, wrong number of arguments, bad regex).
	KindCompile
	// KindLimit: a cost limit was exceeded (source too long, too many nodes,
	// nesting too deep, result too large).
	KindLimit
	// KindRuntime: evaluation failed for a particular Env (wrong type).
	KindRuntime
)

func (k ErrorKind) String() string {
	switch k {
	case KindSyntax:
		return "syntax"
	case KindCompile:
		return "compile"
	case KindLimit:
		return "limit"
	case KindRuntime:
		return "runtime"
	}
	return "unknown"
}

// Pos is a 1-based line and column (columns count characters, not bytes).
// The zero Pos means the position is not known.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Error is the only error type returned by this package. Msg is written for
// an administrator; Hint, when set, suggests a fix. The console shows Error()
// beside the field, and the API can put it in an Okta error cause.
type Error struct {
	Kind ErrorKind `json:"kind"`
	Pos  Pos       `json:"pos"`
	Msg  string    `json:"message"`
	Hint string    `json:"hint,omitempty"`
	Err  error     `json:"-"` // underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Pos.Line > 0 {
		b.WriteString(" at ")
		b.WriteString(e.Pos.String())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// posAt converts a byte offset in src into a 1-based line and column.
func posAt(src string, off int) Pos {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	for i := 0; i < off; {
		r, size := utf8.DecodeRuneInString(src[i:])
		i += size
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return Pos{Line: line, Column: col}
}

// fromExprError turns an error raised by expr (checker, compiler or vm) into
// an *Error. expr already bound its location to our original source, so its
// line and column are ours.
func fromExprError(err error, kind ErrorKind) *Error {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		cause := fe.Unwrap()
		var own *Error
		if errors.As(cause, &own) {
			// One of our functions failed with a typed error: keep its words.
			out := *own
			if out.Pos.Line == 0 && fe.Line > 0 {
				out.Pos = Pos{Line: fe.Line, Column: fe.Column + 1}
			}
			return &out
		}
		e := &Error{Kind: kind, Msg: humanize(msg), Err: err}
		if fe.Line > 0 {
			e.Pos = Pos{Line: fe.Line, Column: fe.Column + 1}
		}
		return e
	}
	// Not positioned (for instance a recovered compiler panic, whose text
	// carries a stack trace): keep only the first line for the admin.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return &Error{Kind: kind, Msg: humanize(msg), Err: err}
}

// exprTypeWords are Go type names in expr's messages and the words an
// administrator knows them by.
var exprTypeWords = regexp.MustCompile(`<nil>|\b(?:u?int(?:8|16|32|64)?|float(?:32|64)|bool|unknown|interface \{\}|\[\]interface \{\}|map\[string\]interface \{\})\b`)

// humanize rewrites Go type names in an expr message into the language's
// own type names (number, boolean, null, array, ...).
func humanize(msg string) string {
	return exprTypeWords.ReplaceAllStringFunc(msg, func(w string) string {
		switch {
		case w == "<nil>" || w == "unknown":
			return "null"
		case w == "bool":
			return "boolean"
		case strings.HasPrefix(w, "[]"):
			return "array"
		case strings.HasPrefix(w, "map"):
			return "object"
		case strings.HasPrefix(w, "interface"):
			return "value"
		}
		return "number"
	})
}

// suggest returns the candidate closest to name, if it is close enough to be
// a plausible typo.
func suggest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if strings.ToLower(c) == lname {
			return c
		}
		d := levenshtein(lname, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if n := utf8.RuneCountInString(name); n > 8 {
		limit = 3
	}
	if bestD <= limit {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
