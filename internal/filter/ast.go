// Package filter parses the filter and search expressions of Okta's
// management API, such as
//
//	status eq "ACTIVE" and (profile.department eq "Sales" or lastUpdated gt "2024-01-01T00:00:00.000Z")
//
// into a small AST. The grammar follows SCIM filtering as Okta uses it:
// comparison operators eq ne gt ge lt le sw co ew, the presence operator pr,
// the logical operators not, and, or (not binds tightest, then and, then or),
// parentheses, and values that are JSON strings, numbers, true, false or null.
// Attribute paths (status, profile.login, type.id) are case-sensitive;
// operator and logical keywords are not.
//
// Which attributes and operators a surface accepts is the caller's choice,
// given in Options. Errors carry the byte offset of the problem and map to
// Okta's E0000031 "Invalid search criteria." response.
package filter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Op is a comparison operator.
type Op uint8

// Comparison operators.
const (
	OpEq Op = iota + 1 // equal
	OpNe               // not equal
	OpGt               // greater than
	OpGe               // greater than or equal
	OpLt               // less than
	OpLe               // less than or equal
	OpSw               // starts with
	OpCo               // contains
	OpEw               // ends with
	OpPr               // present (has a value); only in Present
)

// String returns the operator's keyword, such as "eq".
func (o Op) String() string {
	switch o {
	case OpEq:
		return "eq"
	case OpNe:
		return "ne"
	case OpGt:
		return "gt"
	case OpGe:
		return "ge"
	case OpLt:
		return "lt"
	case OpLe:
		return "le"
	case OpSw:
		return "sw"
	case OpCo:
		return "co"
	case OpEw:
		return "ew"
	case OpPr:
		return "pr"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

func lookupOp(word string) (Op, bool) {
	for o := OpEq; o <= OpPr; o++ {
		if strings.EqualFold(word, o.String()) {
			return o, true
		}
	}
	return 0, false
}

// OpSet is a set of operators.
type OpSet uint16

// AllOps holds every operator.
const AllOps OpSet = 1<<(OpPr+1) - 2

// Ops returns the set of the given operators.
func Ops(ops ...Op) OpSet {
	var s OpSet
	for _, o := range ops {
		s |= 1 << o
	}
	return s
}

// Has reports whether o is in the set.
func (s OpSet) Has(o Op) bool { return s&(1<<o) != 0 }

// LogicalOp is and or or.
type LogicalOp uint8

// Logical operators.
const (
	And LogicalOp = iota + 1
	Or
)

func (l LogicalOp) String() string {
	switch l {
	case And:
		return "and"
	case Or:
		return "or"
	}
	return "LogicalOp(" + strconv.Itoa(int(l)) + ")"
}

// Kind is the type of a Value.
type Kind uint8

// Value kinds.
const (
	KindString Kind = iota + 1
	KindNumber
	KindBool
	KindNull
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	case KindNull:
		return "null"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is the right-hand side of a comparison.
type Value struct {
	Kind Kind
	// Str is the unescaped text of a string, or the literal of a number
	// exactly as written (so that large integers keep every digit).
	Str  string
	Bool bool
}

// StringValue returns a string Value.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }

// BoolValue returns a boolean Value.
func BoolValue(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// NullValue returns the null Value.
func NullValue() Value { return Value{Kind: KindNull} }

// NumberValue returns a number Value for a JSON number literal.
func NumberValue(literal string) (Value, error) {
	if n := scanNumber(literal, 0); n != len(literal) {
		return Value{}, fmt.Errorf("filter: %q is not a number", literal)
	}
	return Value{Kind: KindNumber, Str: literal}, nil
}

// Float returns a number Value as a float64.
func (v Value) Float() (float64, bool) {
	if v.Kind != KindNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Str, 64)
	return f, err == nil
}

// Time parses a string Value as an RFC 3339 date-time, the form Okta uses
// for created, lastUpdated and similar attributes ("2024-01-02T03:04:05.000Z").
func (v Value) Time() (time.Time, bool) {
	if v.Kind != KindString {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v.Str)
	return t, err == nil
}

// String renders the value as it would appear in an expression.
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return quote(v.Str)
	case KindNumber:
		return v.Str
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindNull:
		return "null"
	}
	return "<invalid>"
}

// Expr is a node of a parsed expression: *Compare, *Present, *Logical or *Not.
type Expr interface {
	// String renders the node in canonical form; Parse of the result yields
	// an equal tree.
	String() string
	exprNode()
}

// Compare is "Attr Op Value".
type Compare struct {
	Attr  string
	Op    Op
	Value Value
}

// Present is "Attr pr".
type Present struct {
	Attr string
}

// Logical is "Left and Right" or "Left or Right".
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Not is "not (X)".
type Not struct {
	X Expr
}

func (*Compare) exprNode() {}
func (*Present) exprNode() {}
func (*Logical) exprNode() {}
func (*Not) exprNode()     {}

func (c *Compare) String() string { return c.Attr + " " + c.Op.String() + " " + c.Value.String() }
func (p *Present) String() string { return p.Attr + " pr" }
func (n *Not) String() string     { return "not (" + n.X.String() + ")" }

func (l *Logical) String() string {
	var b strings.Builder
	writeOperand(&b, l, l.Left, false)
	b.WriteString(" ")
	b.WriteString(l.Op.String())
	b.WriteString(" ")
	writeOperand(&b, l, l.Right, true)
	return b.String()
}

// writeOperand renders a child of a Logical, adding parentheses where the
// precedence (and binds tighter than or) or left associativity would
// otherwise regroup it.
func writeOperand(b *strings.Builder, parent *Logical, child Expr, right bool) {
	c, ok := child.(*Logical)
	paren := ok && (precedence(c.Op) < precedence(parent.Op) || (right && c.Op == parent.Op))
	if paren {
		b.WriteString("(")
	}
	b.WriteString(child.String())
	if paren {
		b.WriteString(")")
	}
}

func precedence(op LogicalOp) int {
	if op == And {
		return 2
	}
	return 1
}

// String renders e in canonical form, or "" for nil.
func String(e Expr) string {
	if e == nil {
		return ""
	}
	return e.String()
}

// Walk calls fn for e and then, if fn returns true, for each of its children
// in order, depth first.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch n := e.(type) {
	case *Logical:
		Walk(n.Left, fn)
		Walk(n.Right, fn)
	case *Not:
		Walk(n.X, fn)
	}
}

// Attrs returns the attribute paths e mentions, in order of appearance,
// without duplicates.
func Attrs(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	Walk(e, func(x Expr) bool {
		var a string
		switch n := x.(type) {
		case *Compare:
			a = n.Attr
		case *Present:
			a = n.Attr
		default:
			return true
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
		return true
	})
	return out
}

// quote renders s as a JSON-style string literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
