package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Default limits.
const (
	DefaultMaxLength = 2048 // bytes of source
	DefaultMaxDepth  = 32   // nesting of parentheses and not
)

// Okta's error code and summary for an expression it cannot use, whether the
// syntax is wrong or the attribute or operator is not supported.
const (
	ErrorCode    = "E0000031"
	ErrorSummary = "Invalid search criteria."
)

// Error is a parse or validation error at byte offset Pos of the source.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("filter: offset %d: %s", e.Pos, e.Msg) }

// Cause is the text for the errorCauses entry of an Okta error response,
// such as "Invalid search syntax at offset 7: expected an operator after status".
func (e *Error) Cause() string {
	return fmt.Sprintf("Invalid search syntax at offset %d: %s", e.Pos, e.Msg)
}

// Options restricts what Parse accepts. The zero value accepts every
// attribute and operator with the default limits.
type Options struct {
	// Attributes maps an attribute path to the operators allowed on it.
	Attributes map[string]OpSet
	// Prefixes allows every attribute path that starts with a key (such as
	// "profile.") with the operators given. An exact entry in Attributes
	// takes precedence. When both maps are nil every attribute is allowed
	// with every operator.
	Prefixes map[string]OpSet
	// NoNot and NoOr reject the not and or operators.
	NoNot, NoOr bool
	// MaxLength and MaxDepth bound the source length in bytes and the nesting
	// of parentheses and not; zero means DefaultMaxLength and DefaultMaxDepth.
	MaxLength, MaxDepth int
}

// allowed returns the operators allowed on attr, or false if attr is not
// allowed at all.
func (o *Options) allowed(attr string) (OpSet, bool) {
	if o.Attributes == nil && o.Prefixes == nil {
		return AllOps, true
	}
	if ops, ok := o.Attributes[attr]; ok {
		return ops, true
	}
	best, found := "", false
	var ops OpSet
	for p, s := range o.Prefixes {
		if strings.HasPrefix(attr, p) && len(attr) > len(p) && (!found || len(p) > len(best)) {
			best, ops, found = p, s, true
		}
	}
	return ops, found
}

// UsersFilterOptions returns the restrictions of the filter parameter of
// Okta's List Users: status, id and the basic profile attributes with eq,
// lastUpdated with eq, gt, ge, lt and le; and and or but not not.
func UsersFilterOptions() Options {
	eq := Ops(OpEq)
	return Options{
		Attributes: map[string]OpSet{
			"status":            eq,
			"id":                eq,
			"lastUpdated":       Ops(OpEq, OpGt, OpGe, OpLt, OpLe),
			"profile.login":     eq,
			"profile.email":     eq,
			"profile.firstName": eq,
			"profile.lastName":  eq,
		},
		NoNot: true,
	}
}

// SearchOptions returns the restrictions of the search parameter of Okta's
// list endpoints: any attribute with eq, ne, gt, ge, lt, le, sw and pr (co
// and ew are left to the System Log API).
func SearchOptions() Options {
	return Options{Prefixes: map[string]OpSet{"": AllOps &^ Ops(OpCo, OpEw)}}
}

// Parse parses src into an expression tree, enforcing opts.
func Parse(src string, opts Options) (Expr, error) {
	maxLen := opts.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	maxDepth := opts.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if len(src) > maxLen {
		return nil, &Error{Pos: maxLen, Msg: fmt.Sprintf("expression longer than %d bytes", maxLen)}
	}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, &Error{Pos: i, Msg: "invalid UTF-8"}
	}
	p := &parser{src: src, opts: &opts, maxDepth: maxDepth}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, &Error{Pos: 0, Msg: "empty expression"}
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("and, or or the end of the expression")
	}
	return e, nil
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokNumber
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	text string // word or number as written; string unescaped
	pos  int
}

type parser struct {
	src      string
	off      int
	tok      token
	opts     *Options
	depth    int
	maxDepth int
}

func (p *parser) errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokString:
		return "string " + quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (p *parser) unexpected(want string) *Error {
	return p.errorf(p.tok.pos, "expected %s, found %s", want, describe(p.tok))
}

func (p *parser) isKeyword(word string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, word)
}

func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		if p.opts.NoOr {
			return nil, p.errorf(p.tok.pos, "the or operator is not supported here")
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > p.maxDepth {
		return p.errorf(pos, "expression nested deeper than %d levels", p.maxDepth)
	}
	return nil
}

func (p *parser) parseUnary() (Expr, error) {
	if p.isKeyword("not") {
		if p.opts.NoNot {
			return nil, p.errorf(p.tok.pos, "the not operator is not supported here")
		}
		if err := p.enter(p.tok.pos); err != nil {
			return nil, err
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		var x Expr
		var err error
		if p.tok.kind == tokLParen { // "not (" is one level, not two
			x, err = p.parseGroup()
		} else {
			x, err = p.parseUnary()
		}
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{X: x}, nil
	}
	if p.tok.kind == tokLParen {
		if err := p.enter(p.tok.pos); err != nil {
			return nil, err
		}
		x, err := p.parseGroup()
		if err != nil {
			return nil, err
		}
		p.depth--
		return x, nil
	}
	return p.parseAttrExpr()
}

// parseGroup parses "( expr )" with the current token at "(".
func (p *parser) parseGroup() (Expr, error) {
	open := p.tok.pos
	if err := p.next(); err != nil {
		return nil, err
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokRParen {
		if p.tok.kind == tokEOF {
			return nil, p.errorf(p.tok.pos, "missing \")\" for \"(\" at offset %d", open)
		}
		return nil, p.unexpected(`and, or or ")"`)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	return x, nil
}

func (p *parser) parseAttrExpr() (Expr, error) {
	if p.tok.kind != tokWord {
		return nil, p.unexpected("an attribute name")
	}
	attr, attrPos := p.tok.text, p.tok.pos
	if err := checkPath(attr, attrPos); err != nil {
		return nil, err
	}
	allowedOps, ok := p.opts.allowed(attr)
	if !ok {
		return nil, p.errorf(attrPos, "attribute %s is not supported here", attr)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord {
		return nil, p.unexpected("an operator after " + attr)
	}
	op, ok := lookupOp(p.tok.text)
	if !ok {
		return nil, p.errorf(p.tok.pos, "unknown operator %q", p.tok.text)
	}
	opPos := p.tok.pos
	if !allowedOps.Has(op) {
		return nil, p.errorf(opPos, "operator %s is not supported for %s", op, attr)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if op == OpPr {
		return &Present{Attr: attr}, nil
	}
	valPos := p.tok.pos
	var v Value
	switch {
	case p.tok.kind == tokString:
		v = StringValue(p.tok.text)
	case p.tok.kind == tokNumber:
		v = Value{Kind: KindNumber, Str: p.tok.text}
	case p.tok.kind == tokWord && p.tok.text == "true":
		v = BoolValue(true)
	case p.tok.kind == tokWord && p.tok.text == "false":
		v = BoolValue(false)
	case p.tok.kind == tokWord && p.tok.text == "null":
		v = NullValue()
	case p.tok.kind == tokWord:
		return nil, p.errorf(valPos, "value %s must be in double quotes", p.tok.text)
	default:
		return nil, p.unexpected("a value after " + op.String())
	}
	switch op {
	case OpSw, OpCo, OpEw:
		if v.Kind != KindString {
			return nil, p.errorf(valPos, "operator %s needs a string value", op)
		}
	case OpGt, OpGe, OpLt, OpLe:
		if v.Kind != KindString && v.Kind != KindNumber {
			return nil, p.errorf(valPos, "operator %s needs a string or number value", op)
		}
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	return &Compare{Attr: attr, Op: op, Value: v}, nil
}

// checkPath accepts dot-separated segments of ASCII letters, digits and
// underscores, each starting with a letter or underscore.
func checkPath(path string, pos int) error {
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			c := path[i]
			if i == start && isDigit(c) {
				return &Error{Pos: pos + i, Msg: fmt.Sprintf("attribute name %s has a segment starting with a digit", path)}
			}
			continue
		}
		if i == start {
			return &Error{Pos: pos + i, Msg: fmt.Sprintf("attribute name %s has an empty segment", path)}
		}
		start = i + 1
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '.'
}

// next scans the next token into p.tok.
func (p *parser) next() error {
	for p.off < len(p.src) {
		c := p.src[p.off]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		p.off++
	}
	start := p.off
	if start >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return nil
	}
	c := p.src[start]
	switch {
	case c == '(':
		p.off++
		p.tok = token{kind: tokLParen, pos: start}
	case c == ')':
		p.off++
		p.tok = token{kind: tokRParen, pos: start}
	case c == '"':
		s, end, err := scanString(p.src, start)
		if err != nil {
			return err
		}
		p.off = end
		p.tok = token{kind: tokString, text: s, pos: start}
	case c == '-' || isDigit(c):
		n := scanNumber(p.src, start)
		if n == start || (n < len(p.src) && isWordByte(p.src[n])) {
			return &Error{Pos: start, Msg: "malformed number"}
		}
		p.off = n
		p.tok = token{kind: tokNumber, text: p.src[start:n], pos: start}
	case isWordByte(c):
		n := start
		for n < len(p.src) && isWordByte(p.src[n]) {
			n++
		}
		p.off = n
		p.tok = token{kind: tokWord, text: p.src[start:n], pos: start}
	default:
		r, _ := utf8.DecodeRuneInString(p.src[start:])
		return &Error{Pos: start, Msg: fmt.Sprintf("unexpected character %q", r)}
	}
	return nil
}

// scanNumber returns the end of the JSON number starting at i, or i if there
// is none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) int {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return start
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return start
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j {
			return start
		}
		i = k
	}
	return i
}

// scanString decodes the JSON string literal starting at s[start] == '"' and
// returns its value and the offset after the closing quote.
func scanString(s string, start int) (string, int, error) {
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(s) {
			return "", 0, &Error{Pos: start, Msg: "unterminated string"}
		}
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c < 0x20:
			return "", 0, &Error{Pos: i, Msg: "control character in string; escape it"}
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		// Escape sequence.
		if i+1 >= len(s) {
			return "", 0, &Error{Pos: start, Msg: "unterminated string"}
		}
		esc := s[i+1]
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return "", 0, &Error{Pos: i, Msg: `malformed \u escape`}
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
					r2, ok2 = hex4(s, i+8)
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok2 || dec == utf8.RuneError {
					return "", 0, &Error{Pos: i, Msg: `unpaired surrogate in \u escape`}
				}
				r = dec
				n = 12
			}
			b.WriteRune(r)
			i += n
			continue
		default:
			return "", 0, &Error{Pos: i, Msg: fmt.Sprintf(`unknown escape \%c`, esc)}
		}
		i += 2
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}
