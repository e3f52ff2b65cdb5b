package expr

import (
	containerlist "container/list"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Env is the data an expression is evaluated against. Every field is
// optional; a missing map behaves as an empty profile.
type Env struct {
	// User is the person's Okta-style profile (login, email, firstName, ...,
	// custom attributes). Put the internal properties id and status (and
	// created, lastUpdated, ... if wanted) in the same map: user.id and
	// user.getInternalProperty("id") both read User["id"].
	User map[string]any
	// AppUser is the app assignment profile (appuser.role, appuser.samlRoles,
	// appuser.userName).
	AppUser map[string]any
	// App holds the app instance's settings.app values (app.<attr>).
	App map[string]any
	// Org holds org properties: name, subdomain, externalKey, ...
	Org map[string]any
	// Source is what source.<attr> reads. When nil it is User, which is what
	// Okta means by source in userNameTemplate (${source.login}).
	Source map[string]any
	// Groups are the names of the person's groups, used by the
	// isMemberOfGroupName* functions and by Groups.startsWith/contains/endsWith.
	Groups []string
	// GroupIDs are the ids of the same groups, for isMemberOfGroup and
	// isMemberOfAnyGroup.
	GroupIDs []string
	// Now overrides the Engine clock for Time.now.
	Now func() time.Time
}

// vmEnv is the shape expr sees. It has no methods, so no Go method can be
// reached from an expression; ctx is only ever named by the parser.
type vmEnv struct {
	User    map[string]any `expr:"user"`
	AppUser map[string]any `expr:"appuser"`
	App     map[string]any `expr:"app"`
	Org     map[string]any `expr:"org"`
	Source  map[string]any `expr:"source"`
	Ctx     *evalCtx       `expr:"ctx"`
}

type evalState struct {
	ctx evalCtx
	ve  vmEnv
}

// Engine compiles expressions and caches the compiled programs. It is safe
// for concurrent use. Create one per process (or per tenant) with NewEngine.
type Engine struct {
	maxSource   int
	maxNodes    int
	maxDepth    int
	lim         limits
	clock       func() time.Time
	funcs       map[string]funcSpec
	publicNames []string
	exprFuncs   conf.FunctionsTable
	noBuiltins  conf.FunctionsTable
	noDisabled  map[string]bool
	noConstFns  map[string]reflect.Value

	cache *lru
	vms   sync.Pool // of *vm.VM, reused between evaluations
}

// Option configures an Engine.
type Option func(*Engine)

// WithCacheSize bounds the number of compiled programs kept (default 1024;
// 0 disables caching).
func WithCacheSize(n int) Option { return func(e *Engine) { e.cache = newLRU(n) } }

// WithMaxSourceLen bounds the length of a source in bytes (default 4096).
func WithMaxSourceLen(n int) Option { return func(e *Engine) { e.maxSource = n } }

// WithMaxNodes bounds the size of the syntax tree (default 512 elements).
func WithMaxNodes(n int) Option { return func(e *Engine) { e.maxNodes = n } }

// WithMaxDepth bounds the nesting of parentheses and calls (default 32).
func WithMaxDepth(n int) Option { return func(e *Engine) { e.maxDepth = n } }

// WithMaxResultLen bounds every string an evaluation builds, in bytes
// (default 65536), and every array, in elements (default 1024).
func WithMaxResultLen(bytes, elements int) Option {
	return func(e *Engine) { e.lim.maxString, e.lim.maxList = bytes, elements }
}

// WithClock sets the clock used by Time.now when Env.Now is nil
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.clock = now } }

// NewEngine returns an Engine with the given options.
func NewEngine(opts ...Option) *Engine {
	e := &Engine{
		maxSource: 4096,
		maxNodes:  512,
		maxDepth:  32,
		lim:       limits{maxString: 64 << 10, maxList: 1024, maxRegexLen: 512},
		clock:     time.Now,
		cache:     newLRU(1024),
	}
	for _, o := range opts {
		o(e)
	}
	e.vms.New = func() any { return new(vm.VM) }
	e.funcs = make(map[string]funcSpec)
	e.exprFuncs = make(conf.FunctionsTable)
	e.noBuiltins = conf.FunctionsTable{}
	e.noDisabled = map[string]bool{}
	e.noConstFns = map[string]reflect.Value{}
	for _, spec := range funcTable() {
		e.funcs[spec.name] = spec
		if !strings.HasPrefix(spec.name, "$") {
			e.publicNames = append(e.publicNames, spec.name)
		}
		e.exprFuncs[spec.name] = &builtin.Function{Name: spec.name, Func: e.bind(spec)}
	}
	return e
}

// bind adapts a funcSpec to expr's calling convention: the hidden context
// argument is split off, arguments are counted again (defence in depth) and
// errors name the function.
func (e *Engine) bind(spec funcSpec) func(args ...any) (any, error) {
	lim := &e.lim
	return func(args ...any) (any, error) {
		var c *evalCtx
		if spec.ctx {
			if len(args) == 0 {
				return nil, errors.New(spec.name + ": missing context")
			}
			c, _ = args[0].(*evalCtx)
			if c == nil {
				return nil, errors.New(spec.name + ": missing context")
			}
			args = args[1:]
		}
		if len(args) < spec.min || (spec.max >= 0 && len(args) > spec.max) {
			return nil, &Error{Kind: KindRuntime, Msg: spec.name + " expects " + arity(spec)}
		}
		return spec.fn(lim, c, args)
	}
}

// Mode says how Compile reads its source.
type mode uint8

const (
	modeAuto mode = iota
	modeTemplate
	modeExpression
	modeCondition
)

type cacheKey struct {
	m   mode
	src string
}

type cacheEntry struct {
	prog *Program
	err  error
}

// Compile compiles src, which may be a bare expression
// (String.toLowerCase(user.email)) or a template: any source containing
// "${" is a template whose text outside ${...} is literal
// ("${user.firstName}.${user.lastName}@example.com").
// Results, including errors, are cached by source.
func (e *Engine) Compile(src string) (*Program, error) { return e.compileCached(modeAuto, src) }

// CompileTemplate compiles src as a template even when it holds no ${...}
// placeholder (then it is a constant), as for idpIssuer or a literal
// attribute value.
func (e *Engine) CompileTemplate(src string) (*Program, error) {
	return e.compileCached(modeTemplate, src)
}

// CompileExpression compiles src as a bare expression only; "${" is then a
// syntax error. Use it where Okta takes only an expression (conditions).
func (e *Engine) CompileExpression(src string) (*Program, error) {
	return e.compileCached(modeExpression, src)
}

// CompileCondition compiles src as a bare expression that must be true or
// false (a group rule's condition). An expression whose result is known
// to be something else (a text, a number, an array: "a" + user.login,
// String.toLowerCase(user.email)) is refused with its position when it is
// compiled; attributes have no declared type, so user.isContractor is
// accepted and Program.Bool checks its value.
func (e *Engine) CompileCondition(src string) (*Program, error) {
	return e.compileCached(modeCondition, src)
}

func (e *Engine) compileCached(m mode, src string) (*Program, error) {
	key := cacheKey{m, src}
	ent, ok := e.cache.get(key)
	if !ok {
		p, err := e.compile(m, src)
		ent = cacheEntry{p, err}
		e.cache.put(key, ent)
	}
	if xe, isErr := ent.err.(*Error); isErr {
		cp := *xe // each caller gets its own copy of a cached error
		return nil, &cp
	}
	if ent.err != nil {
		return nil, ent.err
	}
	return ent.prog, nil
}

func (e *Engine) compile(m mode, src string) (*Program, error) {
	if len(src) > e.maxSource {
		return nil, &Error{Kind: KindLimit, Msg: "expression is too long (" + itoa(len(src)) + " bytes, the limit is " + itoa(e.maxSource) + ")"}
	}
	p := &parser{eng: e, src: src}
	template := m == modeTemplate || (m == modeAuto && strings.Contains(src, "${"))
	var (
		node ast.Node
		perr *Error
	)
	if template {
		node, perr = p.parse(p.template)
	} else {
		node, perr = p.parse(p.expression)
	}
	if perr != nil {
		return nil, perr
	}
	if m == modeCondition {
		if bad := p.notBoolean(node); bad != nil {
			return nil, &Error{Kind: KindCompile, Pos: posAtRune(src, bad.Location().From),
				Msg: "the condition must be true or false, and this part is a value of another type", Hint: "compare it: user.department == \"Sales\""}
		}
	}

	// expr only reads the function, builtin and constant tables while
	// checking and compiling, so the Engine's tables are shared; the
	// nature cache inside the config is per compilation.
	cfg := &conf.Config{
		Optimize:     true,
		ShortCircuit: true,
		MaxNodes:     uint(e.maxNodes),
		ConstFns:     e.noConstFns,
		Functions:    e.exprFuncs,
		Builtins:     e.noBuiltins, // no expr builtins at all
		Disabled:     e.noDisabled,
	}
	cfg.WithEnv(vmEnv{})
	cfg.Strict = true

	tree := &exprparser.Tree{Node: node, Source: file.NewSource(src)}
	if _, err := checker.Check(tree, cfg); err != nil {
		return nil, fromExprError(err, KindCompile)
	}
	if err := optimizer.Optimize(&tree.Node, cfg); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			err = fe.Bind(tree.Source)
		}
		return nil, fromExprError(err, KindCompile)
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, fromExprError(err, KindCompile)
	}
	return &Program{eng: e, src: src, prog: prog, template: template}, nil
}

// Program is a compiled expression or template. It is immutable and safe
// for concurrent use.
type Program struct {
	eng      *Engine
	src      string
	prog     *vm.Program
	template bool
}

// Source returns the text the program was compiled from.
func (p *Program) Source() string { return p.src }

// IsTemplate reports whether the source was read as a ${...} template.
func (p *Program) IsTemplate() bool { return p.template }

// Eval evaluates the program against env. Errors are *Error (KindRuntime or
// KindLimit) with the position of the failing part.
func (p *Program) Eval(env Env) (Value, error) {
	now := env.Now
	if now == nil {
		now = p.eng.clock
	}
	src := env.Source
	if src == nil {
		src = env.User
	}
	// One allocation holds both the functions' context and the variables
	// expr reads (through a pointer, so boxing it costs nothing).
	st := &evalState{ctx: evalCtx{env: env, now: now}}
	st.ve = vmEnv{
		User:    env.User,
		AppUser: env.AppUser,
		App:     env.App,
		Org:     env.Org,
		Source:  src,
		Ctx:     &st.ctx,
	}
	machine := p.eng.vms.Get().(*vm.VM)
	out, err := machine.Run(p.prog, &st.ve)
	// Do not keep the caller's data reachable from the pool.
	clear(machine.Stack[:cap(machine.Stack)])
	clear(machine.Variables)
	p.eng.vms.Put(machine)
	if err != nil {
		return Value{}, fromExprError(err, KindRuntime)
	}
	v := normalize(out, 0)
	if l, ok := v.([]any); ok && len(l) > p.eng.lim.maxList {
		return Value{}, &Error{Kind: KindLimit, Msg: "result has more than " + itoa(p.eng.lim.maxList) + " elements"}
	}
	if s, ok := v.(string); ok && len(s) > p.eng.lim.maxString {
		return Value{}, &Error{Kind: KindLimit, Msg: "result longer than " + itoa(p.eng.lim.maxString) + " bytes"}
	}
	return Value{v}, nil
}

// String evaluates and renders the result as text (see Value.String: null
// is "", arrays are joined with ",").
func (p *Program) String(env Env) (string, error) {
	v, err := p.Eval(env)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// Strings evaluates and renders the result as attribute values (see
// Value.Strings: null gives no values, an array one value per element).
func (p *Program) Strings(env Env) ([]string, error) {
	v, err := p.Eval(env)
	if err != nil {
		return nil, err
	}
	return v.Strings(), nil
}

// Bool evaluates a condition: true or false; null counts as false; any
// other type is a KindRuntime error.
func (p *Program) Bool(env Env) (bool, error) {
	v, err := p.Eval(env)
	if err != nil {
		return false, err
	}
	switch x := v.v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, nil
	}
	return false, &Error{Kind: KindRuntime, Msg: "expression must be true or false, got " + v.Kind().String()}
}

func itoa(n int) string { return strconv.Itoa(n) }

// lru is a small mutex-guarded least-recently-used cache.
type lru struct {
	mu    sync.Mutex
	max   int
	ll    *containerlist.List
	items map[cacheKey]*containerlist.Element
}

type lruItem struct {
	key cacheKey
	val cacheEntry
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: containerlist.New(), items: make(map[cacheKey]*containerlist.Element)}
}

func (c *lru) get(k cacheKey) (cacheEntry, bool) {
	if c.max <= 0 {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*lruItem).val, true
	}
	return cacheEntry{}, false
}

func (c *lru) put(k cacheKey, v cacheEntry) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*lruItem).val = v
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&lruItem{k, v})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*lruItem).key)
	}
}

// CacheLen reports how many compiled programs are cached.
func (e *Engine) CacheLen() int {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	return e.cache.ll.Len()
}
