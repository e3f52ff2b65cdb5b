package credential

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDefaultPolicyMessage(t *testing.T) {
	err := DefaultPolicy().Check(context.Background(), nil, "short", PolicySubject{Login: "isaac.brock@example.com"}, nil)
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("Check = %v, want *PolicyError", err)
	}
	const want = "Password requirements were not met. Password requirements: at least 8 characters, " +
		"a lowercase letter, an uppercase letter, a number, no parts of your username. " +
		"Your password cannot be any of your last 4 passwords."
	if pe.Error() != want {
		t.Fatalf("Error() =\n%s\nwant\n%s", pe.Error(), want)
	}
	if got := strings.Join(pe.FailedDescriptions(), "|"); got != "at least 8 characters|an uppercase letter|a number" {
		t.Fatalf("FailedDescriptions = %q", got)
	}
}

func TestPolicyDescription(t *testing.T) {
	p := Policy{MinLength: 12, MinLower: 1, MinUpper: 2, MinNumber: 1, MinSymbol: 1, ExcludeUsername: true,
		ExcludeAttributes: []string{AttrFirstName, AttrLastName}, HistoryCount: 1}
	const want = "Password requirements: at least 12 characters, a lowercase letter, at least 2 uppercase letters, " +
		"a number, a symbol, no parts of your username, does not include your first name, " +
		"does not include your last name. Your password cannot be your last password."
	if got := p.Description(); got != want {
		t.Fatalf("Description =\n%s\nwant\n%s", got, want)
	}
	if got := (Policy{}).Description(); got != "" {
		t.Fatalf("empty policy Description = %q", got)
	}
}

func TestPolicyCheck(t *testing.T) {
	full := Policy{MinLength: 8, MinLower: 1, MinUpper: 1, MinNumber: 1, MinSymbol: 1, MaxLength: 20,
		ExcludeUsername: true, ExcludeAttributes: []string{AttrFirstName, AttrLastName}}
	subject := PolicySubject{Login: "isaac.brock@example.com", FirstName: "Isaac", LastName: "Brock"}
	tests := []struct {
		name     string
		policy   Policy
		password string
		subject  PolicySubject
		failed   []Requirement
	}{
		{"default ok", DefaultPolicy(), "Sunshine42", subject, nil},
		{"default no symbol needed", DefaultPolicy(), "abcDEF12", subject, nil},
		{"too short", DefaultPolicy(), "aB3", subject, []Requirement{ReqMinLength}},
		{"length counts characters not bytes", DefaultPolicy(), "ääääÄÄ1", subject, []Requirement{ReqMinLength}},
		{"unicode letters count", DefaultPolicy(), "äääääÄÄ1", subject, nil},
		{"only lowercase", DefaultPolicy(), "abcdefgh", subject, []Requirement{ReqUpperCase, ReqNumber}},
		{"only digits", DefaultPolicy(), "12345678", subject, []Requirement{ReqLowerCase, ReqUpperCase}},
		{"login part", DefaultPolicy(), "brockR0cks!", subject, []Requirement{ReqExcludeUsername}},
		{"login part any case", DefaultPolicy(), "xBROCKx1a", subject, []Requirement{ReqExcludeUsername}},
		{"domain part", DefaultPolicy(), "Example123", subject, []Requirement{ReqExcludeUsername}},
		{"top-level domain ignored", DefaultPolicy(), "Welcome1com", subject, nil},
		{"parts shorter than four ignored", DefaultPolicy(), "Joe12345x", PolicySubject{Login: "joe-a_ab@ex.io"}, nil},
		{"whole login always excluded", DefaultPolicy(), "Xbob99yy", PolicySubject{Login: "bob"}, []Requirement{ReqExcludeUsername}},
		{"split on hash comma dash", DefaultPolicy(), "Abcd1xyz-wxyz", PolicySubject{Login: "abcd#efgh,ijkl-mnop"}, []Requirement{ReqExcludeUsername}},
		{"username check off", Policy{MinLength: 1}, "brock", subject, nil},
		{"full ok", full, "Pa55word!x", subject, nil},
		{"full fails all", full, strings.Repeat("isaacbrock", 3), subject,
			[]Requirement{ReqMaxLength, ReqUpperCase, ReqNumber, ReqSymbol, ReqExcludeUsername, ReqExcludeFirst, ReqExcludeLast}},
		{"first name", full, "Pa55isaac!", PolicySubject{Login: "ib@example.com", FirstName: "Isaac", LastName: "Brock"}, []Requirement{ReqExcludeFirst}},
		{"empty names ignored", full, "Pa55word!x", PolicySubject{Login: "ib@example.com"}, nil},
		{"symbol classes", Policy{MinSymbol: 3}, "a€ b_c!", subject, nil},
		{"space is not a symbol", Policy{MinSymbol: 1}, "a b", subject, []Requirement{ReqSymbol}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(context.Background(), nil, tt.password, tt.subject, nil)
			if tt.failed == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check = %v, want *PolicyError", err)
			}
			if got, want := joinReqs(pe.Failed), joinReqs(tt.failed); got != want {
				t.Fatalf("failed = %s, want %s", got, want)
			}
			for _, r := range tt.failed {
				if !pe.Has(r) {
					t.Fatalf("Has(%s) = false", r)
				}
			}
		})
	}
}

func joinReqs(rs []Requirement) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func TestPolicyHistory(t *testing.T) {
	h := newTestHasher(t, cheapParams, 2)
	ctx := context.Background()
	var history []string // newest first
	for _, pw := range []string{"Newest111", "Second222", "Third3333", "Fourth444", "Fifth5555"} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, enc)
	}
	// An imported hash in the history is checked too.
	imported, err := ImportedHash{Algorithm: "MD5", Value: "X03MO1qnZdYdgyfeuILPmQ=="}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	subject := PolicySubject{Login: "user@example.com"}
	tests := []struct {
		password string
		history  []string
		reused   bool
	}{
		{"Newest111", history, true},
		{"Fourth444", history, true},
		{"Fifth5555", history, false}, // fifth most recent: outside HistoryCount 4
		{"Brand9New", history, false},
		{"password", []string{imported}, true},
	}
	for _, tt := range tests {
		err := p.Check(ctx, h, tt.password, subject, tt.history)
		var pe *PolicyError
		isPE := errors.As(err, &pe)
		if err != nil && !isPE {
			t.Fatalf("Check(%q) = %v", tt.password, err)
		}
		if got := isPE && pe.Has(ReqHistory); got != tt.reused {
			t.Errorf("Check(%q) history failure = %v, want %v (err %v)", tt.password, got, tt.reused, err)
		}
	}
	if err := p.Check(ctx, nil, "Brand9New", subject, history); err == nil || errors.As(err, new(*PolicyError)) {
		t.Errorf("Check with history and no Verifier = %v, want a non-policy error", err)
	}
	if err := p.Check(ctx, h, strings.Repeat("aB1", 400), subject, history); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Check(1200 bytes) = %v, want ErrPasswordTooLong", err)
	}
	// A history entry that cannot be parsed is an error, not a pass.
	if err := p.Check(ctx, h, "Brand9New", subject, []string{"garbage"}); err == nil || errors.As(err, new(*PolicyError)) {
		t.Errorf("Check with corrupt history = %v, want a non-policy error", err)
	}
}
