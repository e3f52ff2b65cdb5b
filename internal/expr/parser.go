package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// The parser reads Okta Expression Language and builds expr's AST directly,
// so positions in errors always refer to what the administrator typed and
// no Okta text is ever re-interpreted by expr's own lexer. Translation rules:
//
//	user.login              -> user["login"]            (map lookup, missing = nil)
//	user.userName           -> $userName(ctx)            (app username alias)
//	String.toLowerCase(x)   -> call of the Go function registered as "String.toLowerCase"
//	a + b                   -> $add(a, b)                (Okta concatenation / null rules)
//	a / b                   -> $div(a, b)                (whole-number division)
//	a AND b, a && b         -> $bool(a) && $bool(b)      (null is false)
//	c ? x : y               -> $bool(c) ? x : y
//	{x, y}                  -> [x, y]
//	x[i]                    -> $index(x, i)              (null-safe, out of range = null)
//	"a ${user.login} b"     -> $template("a ", user["login"], " b")

// roots maps each top-level variable to its vmEnv field name.
var roots = map[string]string{
	"user":    "user",
	"appuser": "appuser",
	"appUser": "appuser",
	"app":     "app",
	"org":     "org",
	"source":  "source",
}

var rootNames = []string{"user", "appuser", "app", "org", "source"}

// notInGatehouse names Okta variables and functions that exist in Okta but
// that Gatehouse does not provide, so the error can say so plainly.
var notInGatehouse = map[string]string{
	"idpuser":                  "idpuser is only available in the profile mappings and username templates of identity providers",
	"session":                  "session properties are not available in Gatehouse expressions",
	"device":                   "device properties are not available in Gatehouse expressions",
	"security":                 "security context is not available in Gatehouse expressions",
	"getFilteredGroups":        "getFilteredGroups is not supported; use Groups.startsWith, Groups.contains or Groups.endsWith",
	"getManagerUser":           "manager functions are not supported",
	"getManagerAppUser":        "manager functions are not supported",
	"getAssistantUser":         "assistant functions are not supported",
	"getAssistantAppUser":      "assistant functions are not supported",
	"hasDirectoryUser":         "directory functions are not supported",
	"findDirectoryUser":        "directory functions are not supported",
	"hasWorkdayUser":           "Workday functions are not supported",
	"findWorkdayUser":          "Workday functions are not supported",
	"user.isMemberOf":          "user.isMemberOf is not supported; use isMemberOfGroupName or isMemberOfGroup",
	"user.getLinkedObject":     "linked objects are not supported",
	"user.getGroups":           "user.getGroups is not supported; use Groups.startsWith, Groups.contains or Groups.endsWith",
	"Iso3166Convert.toAlpha2":  "Iso3166Convert functions are not supported",
	"Iso3166Convert.toAlpha3":  "Iso3166Convert functions are not supported",
	"Iso3166Convert.toNumeric": "Iso3166Convert functions are not supported",
	"Iso3166Convert.toName":    "Iso3166Convert functions are not supported",
	"Time.fromStringToIso8601": "Time.fromStringToIso8601 is not supported",
	"Time.fromIso8601ToString": "Time.fromIso8601ToString is not supported",
}

// namespaces are the Okta function prefixes; an unknown member of a known
// namespace is reported at the member.
var namespaces = map[string]bool{"String": true, "Arrays": true, "Convert": true, "Groups": true, "Time": true, "Iso3166Convert": true}

// parseError aborts parsing; parse recovers it.
type parseError struct{ err *Error }

type parser struct {
	eng   *Engine
	src   string
	lex   lexer
	tok   token
	nodes int
	depth int
}

func (p *parser) fail(kind ErrorKind, off int, hint string, format string, a ...any) {
	panic(parseError{&Error{Kind: kind, Pos: posAt(p.src, off), Msg: fmt.Sprintf(format, a...), Hint: hint}})
}

func (p *parser) advance() {
	p.tok = p.lex.next()
	if p.tok.kind == tokIllegal {
		p.fail(KindSyntax, p.tok.pos, "", "%s", p.tok.text)
	}
}

// mk registers a new node: it counts it against the node budget and gives it
// a location (rune offsets into the source) for expr's error messages.
func (p *parser) mk(n ast.Node, from, to int) ast.Node {
	p.nodes++
	if p.nodes > p.eng.maxNodes {
		p.fail(KindLimit, p.tok.pos, "", "expression is too complex (more than %d elements)", p.eng.maxNodes)
	}
	n.SetLocation(file.Location{From: from, To: to})
	return n
}

func (p *parser) enter() {
	p.depth++
	if p.depth > p.eng.maxDepth {
		p.fail(KindLimit, p.tok.pos, "", "expression is nested too deeply (more than %d levels)", p.eng.maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) isOp(op string) bool { return p.tok.kind == tokOp && p.tok.text == op }

// isWord matches a keyword operator (AND, OR, NOT, ...) case-insensitively.
func (p *parser) isWord(w string) bool {
	return p.tok.kind == tokIdent && strings.EqualFold(p.tok.text, w)
}

func (p *parser) expect(op string) token {
	if !p.isOp(op) {
		p.fail(KindSyntax, p.tok.pos, "", "expected %s but found %s", op, describe(p.tok))
	}
	t := p.tok
	p.advance()
	return t
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokString:
		return "string " + strconv.Quote(t.text)
	case tokNumber:
		return "number " + t.text
	case tokIdent:
		return t.text
	}
	return "'" + t.text + "'"
}

// parse runs f with panics of parseError turned into the returned error.
func (p *parser) parse(f func() ast.Node) (n ast.Node, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			n, err = nil, pe.err
		}
	}()
	return f(), nil
}

// expression parses src as one bare expression.
func (p *parser) expression() ast.Node {
	p.lex = lexer{src: p.src}
	p.advance()
	if p.tok.kind == tokEOF {
		p.fail(KindSyntax, 0, "", "expression is empty")
	}
	n := p.expr()
	if p.tok.kind != tokEOF {
		p.fail(KindSyntax, p.tok.pos, "", "unexpected %s after the end of the expression", describe(p.tok))
	}
	return n
}

// template parses src as text with ${expression} placeholders.
func (p *parser) template() ast.Node {
	var parts []ast.Node
	lit := func(s string, from, rfrom int) {
		if s == "" {
			return
		}
		parts = append(parts, p.mk(&ast.StringNode{Value: s}, rfrom, rfrom+utf8.RuneCountInString(s)))
	}
	off, roff := 0, 0
	placeholders := 0
	for {
		i := strings.Index(p.src[off:], "${")
		if i < 0 {
			lit(p.src[off:], off, roff)
			break
		}
		lit(p.src[off:off+i], off, roff)
		start := off + i
		rstart := roff + utf8.RuneCountInString(p.src[off:start])
		p.lex = lexer{src: p.src, pos: start + 2, rpos: rstart + 2}
		p.advance()
		if p.isOp("}") {
			p.fail(KindSyntax, start, "", "empty ${} placeholder")
		}
		parts = append(parts, p.expr())
		placeholders++
		if p.tok.kind == tokEOF {
			p.fail(KindSyntax, start, "", "placeholder ${ is not closed with }")
		}
		if !p.isOp("}") {
			p.fail(KindSyntax, p.tok.pos, "", "expected } to close the placeholder but found %s", describe(p.tok))
		}
		off, roff = p.tok.end, p.tok.rend
	}
	if placeholders == 1 && len(parts) == 1 {
		// "${appuser.samlRoles}" keeps the value's own type (an array stays
		// an array, null stays null so the attribute can be omitted).
		return parts[0]
	}
	if len(parts) == 0 {
		return p.mk(&ast.StringNode{Value: ""}, 0, 0)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return p.call("$template", parts, 0, utf8.RuneCountInString(p.src))
}

func (p *parser) call(name string, args []ast.Node, from, to int) ast.Node {
	callee := p.mk(&ast.IdentifierNode{Value: name}, from, to)
	return p.mk(&ast.CallNode{Callee: callee, Arguments: args}, from, to)
}

func (p *parser) ctxNode(from, to int) ast.Node {
	return p.mk(&ast.IdentifierNode{Value: "ctx"}, from, to)
}

func (p *parser) expr() ast.Node {
	p.enter()
	defer p.leave()
	return p.ternary()
}

func (p *parser) ternary() ast.Node {
	start := p.tok
	cond := p.or()
	if p.isOp("?:") {
		p.fail(KindSyntax, p.tok.pos, "write x != null ? x : y instead", "the Elvis operator ?: is not supported")
	}
	if !p.isOp("?") {
		return cond
	}
	p.advance()
	a := p.expr()
	p.expect(":")
	b := p.expr()
	return p.mk(&ast.ConditionalNode{Ternary: true, Cond: p.boolify(cond), Exp1: a, Exp2: b}, start.rpos, p.tok.rpos)
}

func (p *parser) or() ast.Node {
	l := p.and()
	for p.isOp("||") || p.isWord("or") {
		t := p.tok
		p.advance()
		r := p.and()
		l = p.mk(&ast.BinaryNode{Operator: "||", Left: p.boolify(l), Right: p.boolify(r)}, t.rpos, t.rend)
	}
	return l
}

func (p *parser) and() ast.Node {
	l := p.cmp()
	for p.isOp("&&") || p.isWord("and") {
		t := p.tok
		p.advance()
		r := p.cmp()
		l = p.mk(&ast.BinaryNode{Operator: "&&", Left: p.boolify(l), Right: p.boolify(r)}, t.rpos, t.rend)
	}
	return l
}

var wordRelops = map[string]string{"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}

func (p *parser) relop() string {
	if p.tok.kind == tokOp {
		switch p.tok.text {
		case "==", "!=", "<", ">", "<=", ">=":
			return p.tok.text
		}
	}
	if p.tok.kind == tokIdent {
		return wordRelops[strings.ToLower(p.tok.text)]
	}
	return ""
}

func (p *parser) cmp() ast.Node {
	l := p.sum()
	op := p.relop()
	if op == "" {
		return l
	}
	t := p.tok
	p.advance()
	r := p.sum()
	if p.relop() != "" {
		p.fail(KindSyntax, p.tok.pos, "use AND to combine comparisons", "comparisons cannot be chained")
	}
	return p.mk(&ast.BinaryNode{Operator: op, Left: l, Right: r}, t.rpos, t.rend)
}

func (p *parser) sum() ast.Node {
	l := p.product()
	for p.isOp("+") || p.isOp("-") {
		t := p.tok
		p.advance()
		r := p.product()
		if t.text == "+" {
			l = p.call("$add", []ast.Node{l, r}, t.rpos, t.rend)
		} else {
			l = p.mk(&ast.BinaryNode{Operator: "-", Left: l, Right: r}, t.rpos, t.rend)
		}
	}
	return l
}

func (p *parser) product() ast.Node {
	l := p.unary()
	for {
		var op string
		switch {
		case p.isOp("*"), p.isOp("/"), p.isOp("%"):
			op = p.tok.text
		case p.isWord("div"):
			op = "/"
		case p.isWord("mod"):
			op = "%"
		default:
			return l
		}
		t := p.tok
		p.advance()
		r := p.unary()
		if op == "/" {
			l = p.call("$div", []ast.Node{l, r}, t.rpos, t.rend)
		} else {
			l = p.mk(&ast.BinaryNode{Operator: op, Left: l, Right: r}, t.rpos, t.rend)
		}
	}
}

func (p *parser) unary() ast.Node {
	t := p.tok
	switch {
	case p.isOp("!"), p.isWord("not"):
		p.advance()
		p.enter()
		x := p.unary()
		p.leave()
		return p.mk(&ast.UnaryNode{Operator: "!", Node: p.boolify(x)}, t.rpos, t.rend)
	case p.isOp("-"), p.isOp("+"):
		p.advance()
		p.enter()
		x := p.unary()
		p.leave()
		return p.mk(&ast.UnaryNode{Operator: t.text, Node: x}, t.rpos, t.rend)
	}
	return p.postfix()
}

func (p *parser) postfix() ast.Node {
	n := p.primary()
	for p.isOp("[") {
		t := p.tok
		p.advance()
		i := p.expr()
		p.expect("]")
		n = p.call("$index", []ast.Node{n, i}, t.rpos, t.rend)
	}
	return n
}

func (p *parser) primary() ast.Node {
	t := p.tok
	switch t.kind {
	case tokNumber:
		p.advance()
		if !strings.ContainsAny(t.text, ".eE") {
			if v, err := strconv.ParseInt(t.text, 10, 64); err == nil && int64(int(v)) == v {
				return p.mk(&ast.IntegerNode{Value: int(v)}, t.rpos, t.rend)
			}
		}
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail(KindSyntax, t.pos, "", "number %s is out of range", t.text)
		}
		return p.mk(&ast.FloatNode{Value: v}, t.rpos, t.rend)
	case tokString:
		p.advance()
		return p.mk(&ast.StringNode{Value: t.text}, t.rpos, t.rend)
	case tokIdent:
		return p.identifier()
	case tokOp:
		switch t.text {
		case "(":
			p.advance()
			n := p.expr()
			p.expect(")")
			return n
		case "{":
			p.advance()
			return p.mk(&ast.ArrayNode{Nodes: p.list("}")}, t.rpos, p.tok.rpos)
		case "[":
			p.advance()
			return p.mk(&ast.ArrayNode{Nodes: p.list("]")}, t.rpos, p.tok.rpos)
		}
	case tokEOF:
		p.fail(KindSyntax, t.pos, "", "expression ends too early")
	}
	p.fail(KindSyntax, t.pos, "", "unexpected %s", describe(t))
	return nil
}

// list parses comma-separated expressions up to and including the closer.
func (p *parser) list(closer string) []ast.Node {
	var out []ast.Node
	if p.isOp(closer) {
		p.advance()
		return out
	}
	for {
		if p.isOp(":") {
			p.fail(KindSyntax, p.tok.pos, "", "maps ({key: value}) are not supported")
		}
		out = append(out, p.expr())
		if p.isOp(",") {
			p.advance()
			continue
		}
		if p.isOp(":") {
			p.fail(KindSyntax, p.tok.pos, "", "maps ({key: value}) are not supported")
		}
		p.expect(closer)
		return out
	}
}

type segment struct {
	name string
	tok  token
}

func (p *parser) identifier() ast.Node {
	first := p.tok
	switch strings.ToLower(first.text) {
	case "true", "false":
		p.advance()
		return p.mk(&ast.BoolNode{Value: strings.EqualFold(first.text, "true")}, first.rpos, first.rend)
	case "null":
		p.advance()
		return p.mk(&ast.NilNode{}, first.rpos, first.rend)
	case "and", "or", "not", "div", "mod", "eq", "ne", "lt", "gt", "le", "ge":
		p.fail(KindSyntax, first.pos, "", "unexpected operator %s", first.text)
	}
	segs := []segment{{first.text, first}}
	p.advance()
	for p.isOp(".") {
		p.advance()
		if p.tok.kind != tokIdent {
			p.fail(KindSyntax, p.tok.pos, "", "expected a name after '.' but found %s", describe(p.tok))
		}
		segs = append(segs, segment{p.tok.text, p.tok})
		p.advance()
		if len(segs) > 8 {
			p.fail(KindCompile, segs[0].tok.pos, "", "name %s is too long", joinSegs(segs))
		}
	}
	last := segs[len(segs)-1].tok
	if p.isOp("(") {
		return p.function(segs)
	}
	name := joinSegs(segs)
	root, ok := roots[segs[0].name]
	if !ok {
		if msg, known := notInGatehouse[segs[0].name]; known {
			p.fail(KindCompile, first.pos, "", "%s", msg)
		}
		if _, isFn := p.eng.funcs[name]; isFn {
			p.fail(KindSyntax, last.end, "", "function %s must be called with ( )", name)
		}
		hint := "variables are user, appuser, app, org and source, as in user.login"
		if s := suggest(segs[0].name, rootNames); s != "" {
			hint = "did you mean " + s + "?"
		}
		p.fail(KindCompile, first.pos, hint, "unknown variable %s", segs[0].name)
	}
	if len(segs) == 1 {
		p.fail(KindCompile, first.pos, "for example "+segs[0].name+".login", "%s needs an attribute name", segs[0].name)
	}
	if len(segs) > 2 {
		p.fail(KindCompile, segs[2].tok.pos, "", "nested attributes (%s) are not supported", name)
	}
	attr := segs[1].name
	if root == "user" && attr == "userName" {
		return p.call("$userName", []ast.Node{p.ctxNode(first.rpos, last.rend)}, first.rpos, last.rend)
	}
	base := p.mk(&ast.IdentifierNode{Value: root}, first.rpos, first.rend)
	prop := p.mk(&ast.StringNode{Value: attr}, segs[1].tok.rpos, segs[1].tok.rend)
	return p.mk(&ast.MemberNode{Node: base, Property: prop}, first.rpos, last.rend)
}

func joinSegs(segs []segment) string {
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = s.name
	}
	return strings.Join(names, ".")
}

func (p *parser) function(segs []segment) ast.Node {
	name := joinSegs(segs)
	first := segs[0].tok
	last := segs[len(segs)-1].tok
	spec, ok := p.eng.funcs[name]
	if name == "user.getInternalProperty" {
		ok = true
	}
	if !ok || strings.HasPrefix(name, "$") {
		if msg, known := notInGatehouse[name]; known {
			p.fail(KindCompile, first.pos, "", "%s", msg)
		}
		off := first.pos
		if len(segs) == 2 && namespaces[segs[0].name] {
			off = last.pos
		}
		hint := ""
		if s := suggest(name, p.eng.publicNames); s != "" {
			hint = "did you mean " + s + "?"
		}
		p.fail(KindCompile, off, hint, "unknown function %s", name)
	}
	open := p.expect("(")
	var args []ast.Node
	if !p.isOp(")") {
		for {
			args = append(args, p.expr())
			if p.isOp(",") {
				p.advance()
				continue
			}
			break
		}
	}
	if p.tok.kind == tokEOF {
		p.fail(KindSyntax, open.pos, "", "( is not closed")
	}
	p.expect(")")
	from, to := first.rpos, last.rend

	if name == "user.getInternalProperty" {
		if len(args) != 1 {
			p.fail(KindCompile, last.pos, "", "user.getInternalProperty expects 1 argument, got %d", len(args))
		}
		if s, ok := args[0].(*ast.StringNode); ok {
			if _, known := internalProperties[s.Value]; !known {
				p.fail(KindCompile, first.pos, "", "user.getInternalProperty: unknown property %q", s.Value)
			}
		}
		return p.call("$internal", []ast.Node{p.ctxNode(from, to), args[0]}, from, to)
	}
	if len(args) < spec.min || (spec.max >= 0 && len(args) > spec.max) {
		p.fail(KindCompile, first.pos, "", "%s expects %s, got %d", name, arity(spec), len(args))
	}
	switch name {
	case "isMemberOfGroupNameRegex":
		if s, ok := args[0].(*ast.StringNode); ok {
			re, err := compileGroupRegex(&p.eng.lim, name, s.Value)
			if err != nil {
				e := err.(*Error)
				e.Pos = posAt(p.src, first.pos)
				panic(parseError{e})
			}
			args[0] = p.mk(&ast.ConstantNode{Value: re}, s.Location().From, s.Location().To)
		}
	case "Time.now":
		if len(args) > 0 {
			if s, ok := args[0].(*ast.StringNode); ok {
				loc, err := loadZone(name, s.Value)
				if err != nil {
					e := err.(*Error)
					e.Kind, e.Pos = KindCompile, posAt(p.src, first.pos)
					panic(parseError{e})
				}
				args[0] = p.mk(&ast.ConstantNode{Value: loc}, s.Location().From, s.Location().To)
			}
		}
		if len(args) > 1 {
			if s, ok := args[1].(*ast.StringNode); ok {
				if _, err := formatJoda(name, time.Unix(0, 0).UTC(), s.Value); err != nil {
					e := err.(*Error)
					e.Kind, e.Pos = KindCompile, posAt(p.src, first.pos)
					panic(parseError{e})
				}
			}
		}
	}
	if spec.ctx {
		args = append([]ast.Node{p.ctxNode(from, to)}, args...)
	}
	return p.call(name, args, from, to)
}

func arity(s funcSpec) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case s.max < 0:
		return "at least " + plural(s.min)
	case s.min == s.max:
		return plural(s.min)
	default:
		return fmt.Sprintf("%d to %d arguments", s.min, s.max)
	}
}

// boolify wraps a condition so that null counts as false, unless the node
// is already known to produce a boolean.
// notBoolean returns the part of a condition that decides its result
// when that part is known not to be a boolean (a literal text or number,
// an array, arithmetic, a function that returns no boolean), or nil. Null,
// attributes and array elements have no known type and pass.
func (p *parser) notBoolean(n ast.Node) ast.Node {
	switch v := n.(type) {
	case *ast.BoolNode, *ast.NilNode, *ast.MemberNode, *ast.IdentifierNode:
		return nil
	case *ast.ConditionalNode:
		if bad := p.notBoolean(v.Exp1); bad != nil {
			return bad
		}
		return p.notBoolean(v.Exp2)
	}
	if p.isBoolean(n) {
		return nil
	}
	return n
}

// posAtRune converts a rune offset in src (a node's location) into a
// 1-based line and column.
func posAtRune(src string, off int) Pos {
	pos := Pos{Line: 1, Column: 1}
	i := 0
	for _, r := range src {
		if i == off {
			break
		}
		i++
		if r == '\n' {
			pos.Line++
			pos.Column = 1
			continue
		}
		pos.Column++
	}
	return pos
}

// isBoolean reports whether n always yields a boolean: a boolean literal,
// a negation, a comparison or logical operator, a boolean function.
func (p *parser) isBoolean(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.BoolNode:
		return true
	case *ast.UnaryNode:
		return v.Operator == "!"
	case *ast.BinaryNode:
		switch v.Operator {
		case "==", "!=", "<", ">", "<=", ">=", "&&", "||":
			return true
		}
	case *ast.CallNode:
		if id, ok := v.Callee.(*ast.IdentifierNode); ok {
			if spec, ok := p.eng.funcs[id.Value]; ok && spec.bool {
				return true
			}
		}
	}
	return false
}

func (p *parser) boolify(n ast.Node) ast.Node {
	if p.isBoolean(n) {
		return n
	}
	loc := n.Location()
	return p.call("$bool", []ast.Node{n}, loc.From, loc.To)
}
