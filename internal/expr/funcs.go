package expr

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// evalCtx is what functions that need more than their arguments (group
// membership, the clock, the app username alias) receive as a hidden first
// argument. The parser adds that argument; an expression cannot name it.
type evalCtx struct {
	env Env
	now func() time.Time
}

// limits are the runtime caps every function enforces on what it builds.
type limits struct {
	maxString   int // bytes
	maxList     int // elements
	maxRegexLen int // bytes of a group-name pattern
}

// funcSpec describes one function of the language.
type funcSpec struct {
	name string
	min  int
	max  int  // -1: variadic
	ctx  bool // receives *evalCtx as its first argument
	bool bool // always returns a boolean (lets the parser skip a coercion)
	fn   func(l *limits, c *evalCtx, args []any) (any, error)
}

// argError is a function argument problem; the vm adds the position.
func argError(format string, a ...any) error {
	return &Error{Kind: KindRuntime, Msg: fmt.Sprintf(format, a...)}
}

func typeName(x any) string { return kindOf(normalize(x, 0)).String() }

// str converts an argument to a string. Scalars convert as SpEL would
// (numbers and booleans to their text); null stays null (ok=false).
func str(fn string, i int, x any) (string, bool, error) {
	switch v := x.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	}
	n := normalize(x, 0)
	switch n.(type) {
	case bool, int64, float64, string:
		return render(n), true, nil
	case nil:
		return "", false, nil
	}
	return "", false, argError("%s: argument %d must be a string, got %s", fn, i+1, typeName(x))
}

// integer converts an argument to an int (strings of digits are accepted,
// like SpEL's conversion service; fractions are truncated).
func integer(fn string, i int, x any) (int, error) {
	switch v := normalize(x, 0).(type) {
	case int64:
		if v > math.MaxInt32 || v < math.MinInt32 {
			return 0, argError("%s: argument %d is out of range", fn, i+1)
		}
		return int(v), nil
	case float64:
		if math.IsNaN(v) || v > math.MaxInt32 || v < math.MinInt32 {
			return 0, argError("%s: argument %d is out of range", fn, i+1)
		}
		return int(v), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
			return 0, argError("%s: argument %d must be a whole number, got %q", fn, i+1, v)
		}
		return n, nil
	case nil:
		return 0, argError("%s: argument %d must be a number, got null", fn, i+1)
	}
	return 0, argError("%s: argument %d must be a number, got %s", fn, i+1, typeName(x))
}

// list converts an argument to an array; null stays null (ok=false).
func list(fn string, i int, x any) ([]any, bool, error) {
	switch v := normalize(x, 0).(type) {
	case nil:
		return nil, false, nil
	case []any:
		return v, true, nil
	}
	return nil, false, argError("%s: argument %d must be an array, got %s", fn, i+1, typeName(x))
}

func (l *limits) checkString(fn string, s string) (any, error) {
	if len(s) > l.maxString {
		return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("%s: result longer than %d bytes", fn, l.maxString)}
	}
	return s, nil
}

func (l *limits) checkList(fn string, v []any) (any, error) {
	if len(v) > l.maxList {
		return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("%s: result has more than %d elements", fn, l.maxList)}
	}
	return v, nil
}

// unary wraps a null-propagating string -> string function.
func unary(name string, f func(string) string) funcSpec {
	return funcSpec{name: name, min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
		s, ok, err := str(name, 0, a[0])
		if err != nil || !ok {
			return nil, err
		}
		return l.checkString(name, f(s))
	}}
}

func substringBefore(s, sep string) string {
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i]
	}
	return s
}

func substringAfter(s, sep string) string {
	if i := strings.Index(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return ""
}

func twoStrings(name string, f func(a, b string) string) funcSpec {
	return funcSpec{name: name, min: 2, max: 2, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
		s, ok, err := str(name, 0, a[0])
		if err != nil || !ok {
			return nil, err
		}
		t, ok, err := str(name, 1, a[1])
		if err != nil {
			return nil, err
		}
		if !ok {
			return s, nil // a null separator leaves the input untouched
		}
		return l.checkString(name, f(s, t))
	}}
}

// substring follows Okta's (startIndex, endIndex) with indexes counted in
// characters; out-of-range indexes are clamped instead of failing.
func substringSpec(name string) funcSpec {
	return funcSpec{name: name, min: 2, max: 3, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
		s, ok, err := str(name, 0, a[0])
		if err != nil || !ok {
			return nil, err
		}
		r := []rune(s)
		start, err := integer(name, 1, a[1])
		if err != nil {
			return nil, err
		}
		end := len(r)
		if len(a) == 3 {
			if end, err = integer(name, 2, a[2]); err != nil {
				return nil, err
			}
		}
		start = max(0, min(start, len(r)))
		end = max(start, min(end, len(r)))
		return string(r[start:end]), nil
	}}
}

func replaceSpec(name string, n int) funcSpec {
	return funcSpec{name: name, min: 3, max: 3, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
		s, ok, err := str(name, 0, a[0])
		if err != nil || !ok {
			return nil, err
		}
		old, okOld, err := str(name, 1, a[1])
		if err != nil {
			return nil, err
		}
		repl, _, err := str(name, 2, a[2])
		if err != nil {
			return nil, err
		}
		if !okOld || old == "" {
			return s, nil
		}
		// Bound the result before building it.
		count := strings.Count(s, old)
		if n > 0 {
			count = min(count, n)
		}
		if len(s)+count*(len(repl)-len(old)) > l.maxString {
			return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("%s: result longer than %d bytes", name, l.maxString)}
		}
		return strings.Replace(s, old, repl, n), nil
	}}
}

func groupMatch(name string, match func(group, pattern string) bool) funcSpec {
	return funcSpec{name: name, min: 1, max: 1, ctx: true, bool: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
		p, ok, err := str(name, 0, a[0])
		if err != nil || !ok {
			return false, err
		}
		for _, g := range c.env.Groups {
			if match(g, p) {
				return true, nil
			}
		}
		return false, nil
	}}
}

// groupsFilter is Groups.startsWith/contains/endsWith(app, pattern, limit).
// Every Gatehouse group is an Okta-mastered group, so the app argument is
// accepted but does not narrow the search.
func groupsFilter(name string, match func(group, pattern string) bool) funcSpec {
	return funcSpec{name: name, min: 2, max: 3, ctx: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
		if _, _, err := str(name, 0, a[0]); err != nil {
			return nil, err
		}
		p, ok, err := str(name, 1, a[1])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, argError("%s: the pattern must not be null", name)
		}
		limit := 100
		if len(a) == 3 {
			if limit, err = integer(name, 2, a[2]); err != nil {
				return nil, err
			}
			if limit < 1 || limit > 100 {
				return nil, argError("%s: limit must be between 1 and 100, got %d", name, limit)
			}
		}
		out := make([]any, 0, min(limit, len(c.env.Groups)))
		for _, g := range c.env.Groups {
			if len(out) == limit {
				break
			}
			if match(g, p) {
				out = append(out, g)
			}
		}
		return out, nil
	}}
}

func compileGroupRegex(l *limits, fn, pattern string) (*regexp.Regexp, error) {
	if len(pattern) > l.maxRegexLen {
		return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("%s: pattern longer than %d bytes", fn, l.maxRegexLen)}
	}
	// Java's String.matches semantics: the whole name must match.
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = string(se.Code)
		}
		return nil, &Error{Kind: KindCompile, Msg: fmt.Sprintf("%s: invalid regular expression %q: %s", fn, pattern, msg), Err: err}
	}
	return re, nil
}

// funcTable lists every function an expression may call, by its Okta name.
// Names starting with "$" are internal helpers the parser inserts; they
// cannot be written in an expression because "$" names are rejected.
func funcTable() []funcSpec {
	fs := []funcSpec{
		unary("String.toUpperCase", strings.ToUpper),
		unary("String.toLowerCase", strings.ToLower),
		unary("String.removeSpaces", func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, s)
		}),
		unary("toUpperCase", strings.ToUpper),
		unary("toLowerCase", strings.ToLower),
		twoStrings("String.substringBefore", substringBefore),
		twoStrings("String.substringAfter", substringAfter),
		twoStrings("substringBefore", substringBefore),
		twoStrings("substringAfter", substringAfter),
		substringSpec("String.substring"),
		substringSpec("substring"),
		replaceSpec("String.replace", -1),
		replaceSpec("String.replaceFirst", 1),
		{name: "String.append", min: 2, max: 2, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			s, _, err := str("String.append", 0, a[0])
			if err != nil {
				return nil, err
			}
			t, _, err := str("String.append", 1, a[1])
			if err != nil {
				return nil, err
			}
			return l.checkString("String.append", s+t)
		}},
		{name: "String.len", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			s, _, err := str("String.len", 0, a[0])
			if err != nil {
				return nil, err
			}
			return utf8.RuneCountInString(s), nil
		}},
		{name: "String.stringContains", min: 2, max: 2, bool: true, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			s, ok, err := str("String.stringContains", 0, a[0])
			if err != nil || !ok {
				return false, err
			}
			t, ok, err := str("String.stringContains", 1, a[1])
			if err != nil || !ok {
				return false, err
			}
			return strings.Contains(s, t), nil
		}},
		{name: "String.join", min: 1, max: -1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			sep, _, err := str("String.join", 0, a[0])
			if err != nil {
				return nil, err
			}
			var b strings.Builder
			first := true
			for _, x := range normalizeList(a[1:], 0) {
				if x == nil {
					continue
				}
				if !first {
					b.WriteString(sep)
				}
				first = false
				b.WriteString(render(x))
				if b.Len() > l.maxString {
					return l.checkString("String.join", b.String())
				}
			}
			return b.String(), nil
		}},
		{name: "String.stringSwitch", min: 2, max: -1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			const fn = "String.stringSwitch"
			if len(a)%2 != 0 {
				return nil, argError("%s: keys and values must come in pairs", fn)
			}
			in, okIn, err := str(fn, 0, a[0])
			if err != nil {
				return nil, err
			}
			for i := 2; i+1 < len(a); i += 2 {
				k, ok, err := str(fn, i, a[i])
				if err != nil {
					return nil, err
				}
				if okIn && ok && strings.Contains(in, k) {
					return normalize(a[i+1], 0), nil
				}
			}
			return normalize(a[1], 0), nil
		}},

		{name: "Arrays.add", min: 2, max: 2, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			v, _, err := list("Arrays.add", 0, a[0])
			if err != nil {
				return nil, err
			}
			out := make([]any, 0, len(v)+1)
			out = append(append(out, v...), normalize(a[1], 0))
			return l.checkList("Arrays.add", normalizeList(out, 0))
		}},
		{name: "Arrays.remove", min: 2, max: 2, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			v, ok, err := list("Arrays.remove", 0, a[0])
			if err != nil || !ok {
				return nil, err
			}
			x := normalize(a[1], 0)
			out := make([]any, 0, len(v))
			for _, e := range v {
				if !equal(e, x) {
					out = append(out, e)
				}
			}
			return out, nil
		}},
		{name: "Arrays.clear", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			if _, _, err := list("Arrays.clear", 0, a[0]); err != nil {
				return nil, err
			}
			return []any{}, nil
		}},
		{name: "Arrays.get", min: 2, max: 2, fn: arraysGet("Arrays.get")},
		{name: "Arrays.flatten", min: 0, max: -1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			return l.checkList("Arrays.flatten", normalizeList(append([]any(nil), a...), 0))
		}},
		{name: "Arrays.contains", min: 2, max: 2, bool: true, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			v, _, err := list("Arrays.contains", 0, a[0])
			if err != nil {
				return false, err
			}
			x := normalize(a[1], 0)
			for _, e := range v {
				if equal(e, x) {
					return true, nil
				}
			}
			return false, nil
		}},
		{name: "Arrays.size", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			v, _, err := list("Arrays.size", 0, a[0])
			if err != nil {
				return nil, err
			}
			return len(v), nil
		}},
		{name: "Arrays.isEmpty", min: 1, max: 1, bool: true, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			// Okta's own workaround for empty group lists passes the CSV
			// string of an array here, so an empty string counts as empty.
			if s, ok := a[0].(string); ok {
				return s == "", nil
			}
			v, _, err := list("Arrays.isEmpty", 0, a[0])
			if err != nil {
				return false, err
			}
			return len(v) == 0, nil
		}},
		{name: "Arrays.toCsvString", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			v, ok, err := list("Arrays.toCsvString", 0, a[0])
			if err != nil || !ok {
				return nil, err
			}
			return l.checkString("Arrays.toCsvString", render(v))
		}},

		{name: "Convert.toInt", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			switch v := normalize(a[0], 0).(type) {
			case nil:
				return nil, nil
			case int64:
				return v, nil
			case float64:
				return roundHalfUp("Convert.toInt", v)
			case string:
				s := strings.TrimSpace(v)
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					return n, nil
				}
				return nil, argError("Convert.toInt: %q is not a whole number", v)
			}
			return nil, argError("Convert.toInt: argument 1 must be a string or number, got %s", typeName(a[0]))
		}},
		{name: "Convert.toNum", min: 1, max: 1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			switch v := normalize(a[0], 0).(type) {
			case nil:
				return nil, nil
			case int64:
				return float64(v), nil
			case float64:
				return v, nil
			case string:
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, argError("Convert.toNum: %q is not a number", v)
				}
				return f, nil
			}
			return nil, argError("Convert.toNum: argument 1 must be a string or number, got %s", typeName(a[0]))
		}},

		groupMatch("isMemberOfGroupName", func(g, p string) bool { return g == p }),
		groupMatch("isMemberOfGroupNameStartsWith", strings.HasPrefix),
		groupMatch("isMemberOfGroupNameContains", strings.Contains),
		{name: "isMemberOfGroupNameRegex", min: 1, max: 1, ctx: true, bool: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
			const fn = "isMemberOfGroupNameRegex"
			re, ok := a[0].(*regexp.Regexp) // compiled when the pattern is a literal
			if !ok {
				p, okp, err := str(fn, 0, a[0])
				if err != nil || !okp {
					return false, err
				}
				if re, err = compileGroupRegex(l, fn, p); err != nil {
					return false, err
				}
			}
			for _, g := range c.env.Groups {
				if re.MatchString(g) {
					return true, nil
				}
			}
			return false, nil
		}},
		{name: "isMemberOfGroup", min: 1, max: 1, ctx: true, bool: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
			id, ok, err := str("isMemberOfGroup", 0, a[0])
			if err != nil || !ok {
				return false, err
			}
			return contains(c.env.GroupIDs, id), nil
		}},
		{name: "isMemberOfAnyGroup", min: 1, max: -1, ctx: true, bool: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
			for _, x := range normalizeList(a, 0) {
				s, ok, err := str("isMemberOfAnyGroup", 0, x)
				if err != nil {
					return false, err
				}
				if ok && (contains(c.env.GroupIDs, s) || contains(c.env.Groups, s)) {
					return true, nil
				}
			}
			return false, nil
		}},
		groupsFilter("Groups.startsWith", strings.HasPrefix),
		groupsFilter("Groups.contains", strings.Contains),
		groupsFilter("Groups.endsWith", strings.HasSuffix),

		{name: "Time.now", min: 0, max: 2, ctx: true, fn: timeNow},
		{name: "Time.fromUnixToIso8601", min: 1, max: 1, fn: fromUnixToIso8601},
		{name: "Time.fromIso8601ToUnix", min: 1, max: 1, fn: fromIso8601ToUnix},
		{name: "Time.fromWindowsToIso8601", min: 1, max: 1, fn: fromWindowsToIso8601},
		{name: "Time.fromIso8601ToWindows", min: 1, max: 1, fn: fromIso8601ToWindows},

		// Internal helpers inserted by the parser.
		{name: "$add", min: 2, max: 2, fn: add},
		{name: "$div", min: 2, max: 2, fn: div},
		{name: "$bool", min: 1, max: 1, bool: true, fn: toBool},
		{name: "$index", min: 2, max: 2, fn: arraysGet("indexing with [ ]")},
		{name: "$template", min: 0, max: -1, fn: func(l *limits, _ *evalCtx, a []any) (any, error) {
			var b strings.Builder
			for _, x := range a {
				b.WriteString(render(normalize(x, 0)))
				if b.Len() > l.maxString {
					return l.checkString("template", b.String())
				}
			}
			return b.String(), nil
		}},
		{name: "$userName", min: 0, max: 0, ctx: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
			for _, v := range []any{c.env.AppUser["userName"], c.env.User["userName"], c.env.User["login"]} {
				if v != nil {
					return v, nil
				}
			}
			return nil, nil
		}},
		{name: "$internal", min: 1, max: 1, ctx: true, fn: func(l *limits, c *evalCtx, a []any) (any, error) {
			name, ok, err := str("user.getInternalProperty", 0, a[0])
			if err != nil || !ok {
				return nil, err
			}
			if _, known := internalProperties[name]; !known {
				return nil, argError("user.getInternalProperty: unknown property %q", name)
			}
			return c.env.User[name], nil
		}},
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	return fs
}

// internalProperties are the user properties outside the profile that
// user.getInternalProperty may read (the caller puts them in Env.User).
var internalProperties = map[string]struct{}{
	"id": {}, "status": {}, "created": {}, "activated": {}, "statusChanged": {},
	"lastLogin": {}, "lastUpdated": {}, "passwordChanged": {},
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func roundHalfUp(fn string, f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return nil, argError("%s: %v is out of range", fn, f)
	}
	return int64(math.Floor(f + 0.5)), nil
}

func arraysGet(fn string) func(l *limits, _ *evalCtx, a []any) (any, error) {
	return func(l *limits, _ *evalCtx, a []any) (any, error) {
		v, ok, err := list(fn, 0, a[0])
		if err != nil || !ok {
			return nil, err
		}
		i, err := integer(fn, 1, a[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(v) {
			return nil, nil
		}
		return v[i], nil
	}
}

// equal compares two normalized values the way == does: numbers by value.
func equal(a, b any) bool {
	fa, aNum := Value{a}.Float()
	fb, bNum := Value{b}.Float()
	if aNum && bNum {
		return fa == fb
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// add implements +: numbers add; if either side is a string the other is
// rendered and the two are concatenated (null renders as ""); two arrays
// concatenate; null + null is null.
func add(l *limits, _ *evalCtx, a []any) (any, error) {
	x, y := normalize(a[0], 0), normalize(a[1], 0)
	switch xv := x.(type) {
	case int64:
		switch yv := y.(type) {
		case int64:
			s := xv + yv
			if (s > xv) == (yv > 0) {
				return s, nil
			}
			return float64(xv) + float64(yv), nil
		case float64:
			return float64(xv) + yv, nil
		}
	case float64:
		switch yv := y.(type) {
		case int64:
			return xv + float64(yv), nil
		case float64:
			return xv + yv, nil
		}
	case []any:
		if yv, ok := y.([]any); ok {
			return l.checkList("+", append(append(make([]any, 0, len(xv)+len(yv)), xv...), yv...))
		}
	case nil:
		if y == nil {
			return nil, nil
		}
	}
	_, xs := x.(string)
	_, ys := y.(string)
	if xs || ys {
		if _, ok := x.([]any); ok {
			return nil, argError("cannot add an array and a string; use Arrays.toCsvString")
		}
		if _, ok := y.([]any); ok {
			return nil, argError("cannot add a string and an array; use Arrays.toCsvString")
		}
		xr, yr := render(x), render(y)
		if len(xr)+len(yr) > l.maxString {
			return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("+: result longer than %d bytes", l.maxString)}
		}
		return xr + yr, nil
	}
	return nil, argError("cannot add %s and %s", kindOf(x), kindOf(y))
}

// div implements /: whole numbers divide as whole numbers (as in SpEL).
func div(l *limits, _ *evalCtx, a []any) (any, error) {
	x, y := normalize(a[0], 0), normalize(a[1], 0)
	xi, xInt := x.(int64)
	yi, yInt := y.(int64)
	if xInt && yInt {
		if yi == 0 {
			return nil, argError("division by zero")
		}
		if xi == math.MinInt64 && yi == -1 {
			return float64(xi) / float64(yi), nil
		}
		return xi / yi, nil
	}
	xf, okx := Value{x}.Float()
	yf, oky := Value{y}.Float()
	if !okx || !oky {
		return nil, argError("cannot divide %s by %s", kindOf(x), kindOf(y))
	}
	if yf == 0 {
		return nil, argError("division by zero")
	}
	return xf / yf, nil
}

// toBool coerces a condition: null (a missing attribute) is false.
func toBool(_ *limits, _ *evalCtx, a []any) (any, error) {
	switch v := a[0].(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return nil, argError("expected a boolean, got %s", typeName(a[0]))
}
