package expr

import (
	"strconv"
	"strings"
)

// Event hook filters: the part of Okta Expression Language that Okta
// documents for event hook filters, evaluated over one System Log event.
//
//	event.eventType eq 'user.lifecycle.create'
//	event.outcome.result ne 'FAILURE' && event.actor.type eq 'User'
//	event.target.?[type eq 'UserGroup' && displayName eq 'Sales'].size() > 0
//	String.stringContains(event.debugData.changedAttributes, 'department')
//
// The grammar is small and checked when the filter is compiled (every
// problem is reported with its position), so evaluation cannot fail.

// Event is what an event hook filter sees of a System Log event.
type Event struct {
	EventType     string
	OutcomeResult string
	OutcomeReason string
	Actor         EventObject
	Targets       []EventObject
	// Debug is the event's debugData (event.debugData.<key>).
	Debug map[string]string
}

// EventObject is an event's actor or one of its targets.
type EventObject struct {
	ID, Type, AlternateID, DisplayName string
}

// EventFilter is a compiled event hook filter. It is safe for concurrent
// use.
type EventFilter struct {
	src  string
	root efNode
}

// Source returns the filter's text.
func (f *EventFilter) Source() string { return f.src }

// Match reports whether the event passes the filter.
func (f *EventFilter) Match(ev *Event) bool {
	v := f.root.eval(ev, nil)
	b, _ := v.(bool)
	return b
}

// MaxEventFilterLen bounds a filter's source, in bytes.
const MaxEventFilterLen = 1024

// CompileEventFilter reads an event hook filter. Its result must be true or
// false.
func CompileEventFilter(src string) (*EventFilter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Kind: KindSyntax, Pos: Pos{Line: 1, Column: 1}, Msg: "the expression is empty"}
	}
	if len(src) > MaxEventFilterLen {
		return nil, &Error{Kind: KindLimit, Msg: "the expression is longer than " + strconv.Itoa(MaxEventFilterLen) + " bytes"}
	}
	p := &efParser{src: src, lx: lexer{src: src}}
	p.advance()
	n, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tokIllegal {
		return nil, p.errAt(p.tok, p.tok.text)
	}
	if p.tok.kind != tokEOF {
		return nil, p.errAt(p.tok, "unexpected "+p.describe(p.tok)+"; expected the end of the expression")
	}
	if n.typ() != efBool {
		return nil, p.errAt(n.first(), "the filter must be true or false, not "+n.typ().String())
	}
	return &EventFilter{src: src, root: n}, nil
}

// Static types of filter values.
type efType uint8

const (
	efAny efType = iota // null
	efBool
	efString
	efNumber
	efList // event.target and its selections
)

func (t efType) String() string {
	switch t {
	case efBool:
		return "a boolean"
	case efString:
		return "a string"
	case efNumber:
		return "a number"
	case efList:
		return "a list of targets"
	}
	return "null"
}

type efNode interface {
	typ() efType
	first() token
	// eval computes the value: bool, string, int64, []EventObject or nil.
	// elem is the target of the innermost selection, if any.
	eval(ev *Event, elem *EventObject) any
}

type efLit struct {
	tok token
	t   efType
	v   any
}

func (n *efLit) typ() efType                        { return n.t }
func (n *efLit) first() token                       { return n.tok }
func (n *efLit) eval(*Event, *EventObject) any      { return n.v }
func (n *efField) typ() efType                      { return n.t }
func (n *efField) first() token                     { return n.tok }
func (n *efNot) typ() efType                        { return efBool }
func (n *efNot) first() token                       { return n.tok }
func (n *efLogic) typ() efType                      { return efBool }
func (n *efLogic) first() token                     { return n.l.first() }
func (n *efCmp) typ() efType                        { return efBool }
func (n *efCmp) first() token                       { return n.l.first() }
func (n *efSelect) typ() efType                     { return efList }
func (n *efSelect) first() token                    { return n.list.first() }
func (n *efSize) typ() efType                       { return efNumber }
func (n *efSize) first() token                      { return n.list.first() }
func (n *efContains) typ() efType                   { return efBool }
func (n *efContains) first() token                  { return n.tok }
func (n *efNot) eval(ev *Event, e *EventObject) any { b, _ := n.x.eval(ev, e).(bool); return !b }

// efField reads a field of the event (elem false) or of the selected
// target (elem true).
type efField struct {
	tok  token
	t    efType
	get  func(ev *Event) any
	getE func(o *EventObject) any
}

func (n *efField) eval(ev *Event, e *EventObject) any {
	if n.getE != nil {
		if e == nil {
			return nil
		}
		return n.getE(e)
	}
	return n.get(ev)
}

type efNot struct {
	tok token
	x   efNode
}

type efLogic struct {
	and  bool
	l, r efNode
}

func (n *efLogic) eval(ev *Event, e *EventObject) any {
	l, _ := n.l.eval(ev, e).(bool)
	if n.and && !l || !n.and && l {
		return l
	}
	r, _ := n.r.eval(ev, e).(bool)
	return r
}

type efCmp struct {
	op   string // == != < > <= >=
	l, r efNode
}

func (n *efCmp) eval(ev *Event, e *EventObject) any {
	a, b := n.l.eval(ev, e), n.r.eval(ev, e)
	switch n.op {
	case "==":
		return efEqual(a, b)
	case "!=":
		return !efEqual(a, b)
	}
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	if !ok1 || !ok2 {
		return false
	}
	switch n.op {
	case "<":
		return x < y
	case ">":
		return x > y
	case "<=":
		return x <= y
	default:
		return x >= y
	}
}

func efEqual(a, b any) bool {
	// A missing field is null: null equals only null.
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a == b
}

type efSelect struct {
	list efNode
	pred efNode
}

func (n *efSelect) eval(ev *Event, e *EventObject) any {
	all, _ := n.list.eval(ev, e).([]EventObject)
	var out []EventObject
	for i := range all {
		if b, _ := n.pred.eval(ev, &all[i]).(bool); b {
			out = append(out, all[i])
		}
	}
	return out
}

type efSize struct{ list efNode }

func (n *efSize) eval(ev *Event, e *EventObject) any {
	l, _ := n.list.eval(ev, e).([]EventObject)
	return int64(len(l))
}

type efContains struct {
	tok     token
	s, part efNode
}

func (n *efContains) eval(ev *Event, e *EventObject) any {
	s, _ := n.s.eval(ev, e).(string)
	p, ok := n.part.eval(ev, e).(string)
	return ok && s != "" && strings.Contains(s, p)
}

// eventFields are the event's fields a filter may read (Okta's supported
// filter fields, with the rest of debugData).
var eventFields = map[string]func(ev *Event) any{
	"eventType":         func(ev *Event) any { return ev.EventType },
	"outcome.result":    func(ev *Event) any { return ev.OutcomeResult },
	"outcome.reason":    func(ev *Event) any { return nullIfEmpty(ev.OutcomeReason) },
	"actor.id":          func(ev *Event) any { return ev.Actor.ID },
	"actor.type":        func(ev *Event) any { return ev.Actor.Type },
	"actor.alternateId": func(ev *Event) any { return ev.Actor.AlternateID },
	"actor.displayName": func(ev *Event) any { return ev.Actor.DisplayName },
}

// targetFields are the fields of a target inside event.target.?[...].
var targetFields = map[string]func(o *EventObject) any{
	"id":          func(o *EventObject) any { return o.ID },
	"type":        func(o *EventObject) any { return o.Type },
	"alternateId": func(o *EventObject) any { return o.AlternateID },
	"displayName": func(o *EventObject) any { return o.DisplayName },
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type efParser struct {
	src string
	lx  lexer
	tok token
	// depth bounds nesting.
	depth int
}

func (p *efParser) advance() { p.tok = p.lx.next() }

func (p *efParser) errAt(t token, msg string) *Error {
	return &Error{Kind: KindSyntax, Pos: posAt(p.src, t.pos), Msg: msg}
}

func (p *efParser) describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of the expression"
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func (p *efParser) isOp(s string) bool { return p.tok.kind == tokOp && p.tok.text == s }

// isWord reports whether the token is the keyword (case-insensitive).
func (p *efParser) isWord(w string) bool {
	return p.tok.kind == tokIdent && strings.EqualFold(p.tok.text, w)
}

func (p *efParser) expectOp(s string) error {
	if p.tok.kind == tokIllegal {
		return p.errAt(p.tok, p.tok.text)
	}
	if !p.isOp(s) {
		return p.errAt(p.tok, "expected '"+s+"', found "+p.describe(p.tok))
	}
	p.advance()
	return nil
}

func wantBool(p *efParser, n efNode, what string) error {
	if t := n.typ(); t != efBool && t != efAny {
		return p.errAt(n.first(), what+" needs true or false, not "+t.String())
	}
	return nil
}

func (p *efParser) or(sel bool) (efNode, error) {
	l, err := p.and(sel)
	if err != nil {
		return nil, err
	}
	for p.isOp("||") || p.isWord("or") {
		op := p.tok
		p.advance()
		r, err := p.and(sel)
		if err != nil {
			return nil, err
		}
		for _, x := range []efNode{l, r} {
			if err := wantBool(p, x, "'"+op.text+"'"); err != nil {
				return nil, err
			}
		}
		l = &efLogic{l: l, r: r}
	}
	return l, nil
}

func (p *efParser) and(sel bool) (efNode, error) {
	l, err := p.unary(sel)
	if err != nil {
		return nil, err
	}
	for p.isOp("&&") || p.isWord("and") {
		op := p.tok
		p.advance()
		r, err := p.unary(sel)
		if err != nil {
			return nil, err
		}
		for _, x := range []efNode{l, r} {
			if err := wantBool(p, x, "'"+op.text+"'"); err != nil {
				return nil, err
			}
		}
		l = &efLogic{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *efParser) unary(sel bool) (efNode, error) {
	if p.isOp("!") || p.isWord("not") {
		t := p.tok
		p.advance()
		if p.depth++; p.depth > 32 {
			return nil, &Error{Kind: KindLimit, Pos: posAt(p.src, t.pos), Msg: "the expression is nested too deeply"}
		}
		x, err := p.unary(sel)
		p.depth--
		if err != nil {
			return nil, err
		}
		if err := wantBool(p, x, "'!'"); err != nil {
			return nil, err
		}
		return &efNot{tok: t, x: x}, nil
	}
	return p.cmp(sel)
}

var cmpWords = map[string]string{"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}

func (p *efParser) cmpOp() (string, bool) {
	if p.tok.kind == tokOp {
		switch p.tok.text {
		case "==", "!=", "<", ">", "<=", ">=":
			return p.tok.text, true
		}
	}
	if p.tok.kind == tokIdent {
		if op, ok := cmpWords[strings.ToLower(p.tok.text)]; ok {
			return op, true
		}
	}
	return "", false
}

func (p *efParser) cmp(sel bool) (efNode, error) {
	l, err := p.operand(sel)
	if err != nil {
		return nil, err
	}
	op, ok := p.cmpOp()
	if !ok {
		return l, nil
	}
	opTok := p.tok
	p.advance()
	r, err := p.operand(sel)
	if err != nil {
		return nil, err
	}
	if _, again := p.cmpOp(); again {
		return nil, p.errAt(p.tok, "comparisons do not chain; combine them with && or ||")
	}
	lt, rt := l.typ(), r.typ()
	switch op {
	case "==", "!=":
		if lt == efList || rt == efList {
			return nil, p.errAt(opTok, "a list of targets cannot be compared; use .size() or a selection .?[...]")
		}
		if lt != efAny && rt != efAny && lt != rt {
			return nil, p.errAt(opTok, "'"+opTok.text+"' compares "+lt.String()+" with "+rt.String())
		}
	default:
		if lt != efNumber || rt != efNumber {
			return nil, p.errAt(opTok, "'"+opTok.text+"' compares numbers only (such as event.target.?[...].size() > 0)")
		}
	}
	return &efCmp{op: op, l: l, r: r}, nil
}

func (p *efParser) operand(sel bool) (efNode, error) {
	t := p.tok
	switch t.kind {
	case tokIllegal:
		return nil, p.errAt(t, t.text)
	case tokEOF:
		return nil, p.errAt(t, "the expression ends too early")
	case tokString:
		p.advance()
		return &efLit{tok: t, t: efString, v: t.text}, nil
	case tokNumber:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.errAt(t, "only whole numbers are supported in event hook filters")
		}
		p.advance()
		return &efLit{tok: t, t: efNumber, v: n}, nil
	case tokOp:
		if t.text != "(" {
			return nil, p.errAt(t, "unexpected "+p.describe(t))
		}
		p.advance()
		if p.depth++; p.depth > 32 {
			return nil, &Error{Kind: KindLimit, Pos: posAt(p.src, t.pos), Msg: "the expression is nested too deeply"}
		}
		n, err := p.or(sel)
		p.depth--
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return n, nil
	}
	// An identifier.
	switch strings.ToLower(t.text) {
	case "true", "false":
		p.advance()
		return &efLit{tok: t, t: efBool, v: strings.EqualFold(t.text, "true")}, nil
	case "null":
		p.advance()
		return &efLit{tok: t, t: efAny, v: nil}, nil
	}
	if t.text == "event" {
		return p.eventPath(sel)
	}
	if t.text == "String" {
		return p.stringCall(sel)
	}
	if sel {
		if get, ok := targetFields[t.text]; ok {
			p.advance()
			return &efField{tok: t, t: efString, getE: get}, nil
		}
		return nil, p.errAt(t, "unknown target field "+t.text+" (a selection reads id, type, alternateId or displayName)")
	}
	if _, ok := targetFields[t.text]; ok {
		return nil, p.errAt(t, t.text+" is a target field; use it inside event.target.?[...]")
	}
	return nil, p.errAt(t, "unknown name "+t.text+"; event hook filters read event.<field>")
}

// eventPath reads event.<field>, event.<object>.<field>, event.target with
// its selections and .size().
func (p *efParser) eventPath(sel bool) (efNode, error) {
	start := p.tok
	p.advance()
	name := func() (string, error) {
		if err := p.expectOp("."); err != nil {
			return "", p.errAt(start, "event needs a field: event.eventType, event.actor.id, event.target.?[...] and so on")
		}
		if p.tok.kind != tokIdent {
			return "", p.errAt(p.tok, "expected a field name after '.'")
		}
		s := p.tok.text
		p.advance()
		return s, nil
	}
	first, err := name()
	if err != nil {
		return nil, err
	}
	path := first
	switch first {
	case "target":
		var n efNode = &efField{tok: start, t: efList, get: func(ev *Event) any { return ev.Targets }}
		return p.listOps(n, sel)
	case "debugData":
		key, err := name()
		if err != nil {
			return nil, err
		}
		n := &efField{tok: start, t: efString, get: func(ev *Event) any {
			if v, ok := ev.Debug[key]; ok {
				return v
			}
			return nil
		}}
		return n, p.noMethod()
	case "outcome", "actor":
		second, err := name()
		if err != nil {
			return nil, err
		}
		path += "." + second
	}
	get, ok := eventFields[path]
	if !ok {
		return nil, &Error{Kind: KindCompile, Pos: posAt(p.src, start.pos),
			Msg:  "event." + path + " cannot be filtered on",
			Hint: "event hook filters read event.eventType, event.outcome.result, event.outcome.reason, event.actor.id, .type, .alternateId, .displayName, event.debugData.<key> and event.target.?[...]"}
	}
	return &efField{tok: start, t: efString, get: get}, p.noMethod()
}

// noMethod refuses a method call or a deeper path on a string field.
func (p *efParser) noMethod() error {
	if p.isOp(".") {
		return &Error{Kind: KindCompile, Pos: posAt(p.src, p.tok.pos), Msg: "method calls and nested fields are not supported here",
			Hint: "use String.stringContains(value, 'text') to look inside a value"}
	}
	return nil
}

// listOps reads the selections .?[...] and a final .size() after a list.
func (p *efParser) listOps(n efNode, sel bool) (efNode, error) {
	for p.isOp(".") {
		dot := p.tok
		p.advance()
		switch {
		case p.isOp("?"):
			p.advance()
			if err := p.expectOp("["); err != nil {
				return nil, err
			}
			if sel {
				return nil, p.errAt(dot, "a selection cannot be nested in another")
			}
			pred, err := p.or(true)
			if err != nil {
				return nil, err
			}
			if err := wantBool(p, pred, "a selection"); err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			n = &efSelect{list: n, pred: pred}
		case p.tok.kind == tokIdent && p.tok.text == "size":
			p.advance()
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return &efSize{list: n}, p.noMethod()
		default:
			return nil, &Error{Kind: KindCompile, Pos: posAt(p.src, p.tok.pos), Msg: "a list of targets supports only .?[condition] and .size()",
				Hint: "for example event.target.?[type eq 'User'].size() > 0"}
		}
	}
	return n, nil
}

// stringCall reads String.stringContains(value, text), the one function of
// event hook filters.
func (p *efParser) stringCall(sel bool) (efNode, error) {
	start := p.tok
	p.advance()
	if err := p.expectOp("."); err != nil {
		return nil, err
	}
	name := p.tok
	if name.kind != tokIdent {
		return nil, p.errAt(name, "expected a function name after String.")
	}
	if name.text != "stringContains" {
		return nil, &Error{Kind: KindCompile, Pos: posAt(p.src, start.pos), Msg: "String." + name.text + " is not supported in event hook filters",
			Hint: "String.stringContains(value, 'text') is"}
	}
	p.advance()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var args []efNode
	for !p.isOp(")") {
		if len(args) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		a, err := p.or(sel)
		if err != nil {
			return nil, err
		}
		if t := a.typ(); t != efString && t != efAny {
			return nil, p.errAt(a.first(), "String.stringContains takes strings, not "+t.String())
		}
		args = append(args, a)
	}
	p.advance()
	if len(args) != 2 {
		return nil, p.errAt(start, "String.stringContains expects 2 arguments, got "+strconv.Itoa(len(args)))
	}
	return &efContains{tok: start, s: args[0], part: args[1]}, nil
}
