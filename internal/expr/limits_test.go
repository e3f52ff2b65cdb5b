package expr

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func kindOfErr(err error) ErrorKind {
	var xe *Error
	if errors.As(err, &xe) {
		return xe.Kind
	}
	return 0
}

func TestCompileLimits(t *testing.T) {
	e := NewEngine()
	tests := []struct {
		name string
		src  string
		msg  string
	}{
		{"huge input", `"` + strings.Repeat("a", 5000) + `"`, "expression is too long (5002 bytes, the limit is 4096)"},
		{"deep parentheses", strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), "nested too deeply"},
		{"deep calls", strings.Repeat("String.toLowerCase(", 40) + `"a"` + strings.Repeat(")", 40), "nested too deeply"},
		{"deep unary", strings.Repeat("!", 100) + "true", "nested too deeply"},
		{"deep ternary", strings.Repeat("true ? 1 : ", 60) + "2", "nested too deeply"},
		{"deep arrays", strings.Repeat("{", 50) + strings.Repeat("}", 50), "nested too deeply"},
		{"many nodes", "1" + strings.Repeat(" + 1", 600), "too complex"},
		{"big array literal", "{" + strings.TrimSuffix(strings.Repeat("1,", 900), ",") + "}", "too complex"},
		{"long regex", `isMemberOfGroupNameRegex("` + strings.Repeat("a", 600) + `")`, "pattern longer than 512 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Compile(tc.src)
			if kindOfErr(err) != KindLimit || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Compile = %v (kind %v), want a limit error containing %q", err, kindOfErr(err), tc.msg)
			}
		})
	}
}

func TestLimitOptions(t *testing.T) {
	e := NewEngine(WithMaxSourceLen(10), WithMaxNodes(3), WithMaxDepth(2))
	if _, err := e.Compile(`"12345678901"`); kindOfErr(err) != KindLimit {
		t.Errorf("source limit not applied: %v", err)
	}
	if _, err := e.Compile(`1+1+1`); kindOfErr(err) != KindLimit {
		t.Errorf("node limit not applied: %v", err)
	}
	if _, err := e.Compile(`((1))`); kindOfErr(err) != KindLimit {
		t.Errorf("depth limit not applied: %v", err)
	}
	if _, err := e.Compile(`1`); err != nil {
		t.Errorf("small expression rejected: %v", err)
	}
}

func TestRuntimeLimits(t *testing.T) {
	e := NewEngine(WithMaxResultLen(1000, 10))
	env := testEnv()
	env.User["big"] = strings.Repeat("x", 600)
	many := make([]any, 50)
	for i := range many {
		many[i] = fmt.Sprint("g", i)
	}
	env.AppUser["many"] = many
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprint("aws-", i)
	}
	env.Groups = groups

	// String.replace doubling 20 times would make 2^20 copies.
	explode := `"a"`
	for range 20 {
		explode = `String.replace(` + explode + `, "a", "aa")`
	}
	tests := []struct {
		name string
		src  string
	}{
		{"exponential replace", explode},
		{"concatenation", `user.big + user.big`},
		{"template", `${user.big}${user.big}`},
		{"join", `String.join(",", user.big, user.big)`},
		{"append", `String.append(user.big, user.big)`},
		{"array concatenation", `{1,2,3,4,5,6} + {7,8,9,10,11}`},
		{"flatten", `Arrays.flatten(appuser.many)`},
		{"result list", `appuser.many`},
		{"upper case", `String.toUpperCase(user.big + user.big)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			_, err = p.Eval(env)
			if kindOfErr(err) != KindLimit {
				t.Fatalf("Eval = %v (kind %v), want a limit error", err, kindOfErr(err))
			}
		})
	}
	// Groups.* return at most their limit (<= 100) even with many groups.
	p, err := NewEngine().Compile(`Arrays.size(Groups.startsWith("OKTA", "aws", 100))`)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Eval(env); err != nil || v.Any() != int64(100) {
		t.Fatalf("Groups.startsWith limit: %v, %v", v.Any(), err)
	}
}

func TestCache(t *testing.T) {
	e := NewEngine(WithCacheSize(2))
	p1, _ := e.Compile(`user.login`)
	p1again, _ := e.Compile(`user.login`)
	if p1 != p1again {
		t.Fatal("a cached source must return the same *Program")
	}
	e.Compile(`user.email`)
	e.Compile(`user.firstName`)
	if n := e.CacheLen(); n != 2 {
		t.Fatalf("CacheLen = %d, want 2", n)
	}
	if p, _ := e.Compile(`user.login`); p == p1 {
		t.Fatal("the least recently used entry should have been evicted")
	}
	// The same text compiled as template and as expression are distinct.
	a, _ := e.CompileTemplate(`user.login`)
	b, _ := e.Compile(`user.login`)
	if a == b || !a.IsTemplate() || b.IsTemplate() {
		t.Fatal("modes must not share cache entries")
	}
	off := NewEngine(WithCacheSize(0))
	x, _ := off.Compile(`user.login`)
	y, _ := off.Compile(`user.login`)
	if x == y || off.CacheLen() != 0 {
		t.Fatal("WithCacheSize(0) must disable caching")
	}
}

// TestConcurrentCompileEval is meant for go test -race: many goroutines
// compile overlapping sources through a small cache and evaluate shared
// programs.
func TestConcurrentCompileEval(t *testing.T) {
	e := NewEngine(WithCacheSize(8))
	sources := make([]string, 20)
	for i := range sources {
		sources[i] = fmt.Sprintf(`${user.firstName}-%d-${String.toLowerCase(user.lastName)}`, i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := testEnv()
			for i := range 200 {
				n := (g + i) % len(sources)
				p, err := e.Compile(sources[n])
				if err != nil {
					errs <- err
					return
				}
				got, err := p.String(env)
				want := fmt.Sprintf("Winston-%d-churchill", n)
				if err != nil || got != want {
					errs <- fmt.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.CacheLen(); n > 8 {
		t.Fatalf("cache grew to %d entries, bound is 8", n)
	}
}
