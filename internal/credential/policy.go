package credential

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Policy is a password complexity and history policy, modelled on the
// complexity and age settings of an Okta password policy.
type Policy struct {
	MinLength int // characters (Unicode code points)
	MinLower  int
	MinUpper  int
	MinNumber int
	MinSymbol int
	// MaxLength is the longest password in characters; zero means no limit
	// beyond MaxPasswordBytes.
	MaxLength int
	// ExcludeUsername forbids the login, or any part of it of four or more
	// characters split at , . _ # @ - (ignoring the top-level domain).
	ExcludeUsername bool
	// ExcludeAttributes lists profile attributes the password must not
	// contain; Okta supports "firstName" and "lastName".
	ExcludeAttributes []string
	// HistoryCount forbids reusing any of the last HistoryCount passwords.
	HistoryCount int
	// MaxAgeDays expires a password this many days after it was set (the
	// person must choose a new one at sign-in); zero never expires.
	MaxAgeDays int
}

// Expired reports whether a password set at changed is past the policy's
// maximum age at now.
func (p Policy) Expired(changed *time.Time, now time.Time) bool {
	if p.MaxAgeDays <= 0 || changed == nil {
		return false
	}
	return !now.Before(changed.Add(time.Duration(p.MaxAgeDays) * 24 * time.Hour))
}

// Attribute names for Policy.ExcludeAttributes.
const (
	AttrFirstName = "firstName"
	AttrLastName  = "lastName"
)

// DefaultPolicy returns the settings of Okta's default password policy: at
// least 8 characters with a lowercase letter, an uppercase letter and a
// number, no symbol required, no part of the username, and none of the last 4
// passwords.
func DefaultPolicy() Policy {
	return Policy{
		MinLength:       8,
		MinLower:        1,
		MinUpper:        1,
		MinNumber:       1,
		MinSymbol:       0,
		MaxLength:       0,
		ExcludeUsername: true,
		HistoryCount:    4,
	}
}

// PolicySubject is what the policy compares a password with.
type PolicySubject struct {
	Login     string
	FirstName string
	LastName  string
}

// Requirement names one rule of a Policy.
type Requirement string

// Requirements a password can fail.
const (
	ReqMinLength       Requirement = "minLength"
	ReqMaxLength       Requirement = "maxLength"
	ReqLowerCase       Requirement = "minLowerCase"
	ReqUpperCase       Requirement = "minUpperCase"
	ReqNumber          Requirement = "minNumber"
	ReqSymbol          Requirement = "minSymbol"
	ReqExcludeUsername Requirement = "excludeUsername"
	ReqExcludeFirst    Requirement = "excludeFirstName"
	ReqExcludeLast     Requirement = "excludeLastName"
	ReqHistory         Requirement = "historyCount"
)

// PolicyError reports a password that does not meet a Policy. Failed lists
// every requirement that the password failed, in policy order. Error returns
// Okta's wording, which names the whole policy rather than only the failures,
// for example:
//
//	Password requirements were not met. Password requirements: at least 8
//	characters, a lowercase letter, an uppercase letter, a number, no parts of
//	your username. Your password cannot be any of your last 4 passwords.
//
// The Users API puts this text, prefixed with "password: ", in errorCauses of
// an E0000001 "Api validation failed: password" error.
type PolicyError struct {
	Policy Policy
	Failed []Requirement
}

func (e *PolicyError) Error() string {
	return "Password requirements were not met. " + e.Policy.Description()
}

// Has reports whether r is among the failed requirements.
func (e *PolicyError) Has(r Requirement) bool {
	for _, f := range e.Failed {
		if f == r {
			return true
		}
	}
	return false
}

// FailedDescriptions returns Okta's phrase for each failed requirement, such
// as "an uppercase letter".
func (e *PolicyError) FailedDescriptions() []string {
	out := make([]string, 0, len(e.Failed))
	for _, r := range e.Failed {
		out = append(out, e.Policy.describe(r))
	}
	return out
}

// Description returns the requirements sentence Okta shows for a policy:
// "Password requirements: at least 8 characters, ... . Your password cannot be
// any of your last 4 passwords."
func (p Policy) Description() string {
	var parts []string
	for _, r := range p.complexity() {
		parts = append(parts, p.describe(r))
	}
	var b strings.Builder
	if len(parts) > 0 {
		b.WriteString("Password requirements: ")
		b.WriteString(strings.Join(parts, ", "))
		b.WriteString(".")
	}
	if p.HistoryCount > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(p.describe(ReqHistory))
	}
	return b.String()
}

// complexity lists the policy's active complexity requirements in Okta's order.
func (p Policy) complexity() []Requirement {
	var rs []Requirement
	if p.MinLength > 0 {
		rs = append(rs, ReqMinLength)
	}
	if p.MaxLength > 0 {
		rs = append(rs, ReqMaxLength)
	}
	if p.MinLower > 0 {
		rs = append(rs, ReqLowerCase)
	}
	if p.MinUpper > 0 {
		rs = append(rs, ReqUpperCase)
	}
	if p.MinNumber > 0 {
		rs = append(rs, ReqNumber)
	}
	if p.MinSymbol > 0 {
		rs = append(rs, ReqSymbol)
	}
	if p.ExcludeUsername {
		rs = append(rs, ReqExcludeUsername)
	}
	if p.excludes(AttrFirstName) {
		rs = append(rs, ReqExcludeFirst)
	}
	if p.excludes(AttrLastName) {
		rs = append(rs, ReqExcludeLast)
	}
	return rs
}

func (p Policy) excludes(attr string) bool {
	for _, a := range p.ExcludeAttributes {
		if a == attr {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

func (p Policy) describe(r Requirement) string {
	switch r {
	case ReqMinLength:
		return fmt.Sprintf("at least %d characters", p.MinLength)
	case ReqMaxLength:
		return fmt.Sprintf("at most %d characters", p.MaxLength)
	case ReqLowerCase:
		return plural(p.MinLower, "a lowercase letter", "at least %d lowercase letters")
	case ReqUpperCase:
		return plural(p.MinUpper, "an uppercase letter", "at least %d uppercase letters")
	case ReqNumber:
		return plural(p.MinNumber, "a number", "at least %d numbers")
	case ReqSymbol:
		return plural(p.MinSymbol, "a symbol", "at least %d symbols")
	case ReqExcludeUsername:
		return "no parts of your username"
	case ReqExcludeFirst:
		return "does not include your first name"
	case ReqExcludeLast:
		return "does not include your last name"
	case ReqHistory:
		return plural(p.HistoryCount, "Your password cannot be your last password.",
			"Your password cannot be any of your last %d passwords.")
	}
	return string(r)
}

// Verifier checks a password against a stored hash; *Hasher implements it.
type Verifier interface {
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
}

// Check returns a *PolicyError listing every requirement password fails, or
// nil. history holds the user's previous password hashes, newest first; only
// the first HistoryCount are consulted, each through v (which may be nil when
// history is empty or HistoryCount is zero). An error from v other than a
// mismatch (an ended context, say) is returned wrapped. A password over
// MaxPasswordBytes is ErrPasswordTooLong rather than a *PolicyError.
func (p Policy) Check(ctx context.Context, v Verifier, password string, subject PolicySubject, history []string) error {
	if len(password) > MaxPasswordBytes {
		return ErrPasswordTooLong
	}
	var failed []Requirement
	n := utf8.RuneCountInString(password)
	var lower, upper, number, symbol int
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r):
			upper++
		case unicode.IsDigit(r):
			number++
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			symbol++
		}
	}
	check := func(r Requirement, ok bool) {
		if !ok {
			failed = append(failed, r)
		}
	}
	check(ReqMinLength, n >= p.MinLength)
	if p.MaxLength > 0 {
		check(ReqMaxLength, n <= p.MaxLength)
	}
	check(ReqLowerCase, lower >= p.MinLower)
	check(ReqUpperCase, upper >= p.MinUpper)
	check(ReqNumber, number >= p.MinNumber)
	check(ReqSymbol, symbol >= p.MinSymbol)
	lowered := strings.ToLower(password)
	if p.ExcludeUsername {
		check(ReqExcludeUsername, !containsUsername(lowered, subject.Login))
	}
	if p.excludes(AttrFirstName) {
		check(ReqExcludeFirst, !containsFold(lowered, subject.FirstName))
	}
	if p.excludes(AttrLastName) {
		check(ReqExcludeLast, !containsFold(lowered, subject.LastName))
	}
	if p.HistoryCount > 0 && len(history) > 0 {
		if v == nil {
			return errors.New("credential: checking password history needs a Verifier")
		}
		if len(history) > p.HistoryCount {
			history = history[:p.HistoryCount]
		}
		for _, old := range history {
			ok, _, err := v.Verify(ctx, old, password)
			if err != nil {
				return fmt.Errorf("credential: checking password history: %w", err)
			}
			if ok {
				failed = append(failed, ReqHistory)
				break
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &PolicyError{Policy: p, Failed: failed}
}

func containsFold(lowered, s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.Contains(lowered, strings.ToLower(s))
}

// containsUsername reports whether the lowercased password contains the login
// or one of its parts: the login split at , . _ # @ -, keeping parts of at
// least four characters and dropping the top-level domain of an email login.
func containsUsername(lowered, login string) bool {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" {
		return false
	}
	if strings.Contains(lowered, login) {
		return true
	}
	local, domain, isEmail := strings.Cut(login, "@")
	if isEmail {
		if i := strings.LastIndexByte(domain, '.'); i >= 0 {
			domain = domain[:i]
		}
		login = local + "@" + domain
	}
	parts := strings.FieldsFunc(login, func(r rune) bool {
		return strings.ContainsRune(",._#@-", r)
	})
	for _, part := range parts {
		if utf8.RuneCountInString(part) >= 4 && strings.Contains(lowered, part) {
			return true
		}
	}
	return false
}

// TemporaryPassword returns a random password for the policy: at least
// twelve characters (or the policy's minimum) with a lowercase and an
// uppercase letter, a digit and a symbol.
func TemporaryPassword(p Policy) string {
	n := p.MinLength
	if n < 12 {
		n = 12
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		n = p.MaxLength
	}
	const (
		lower  = "abcdefghijkmnopqrstuvwxyz"
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits = "23456789"
		symbol = "!#%+-=?@"
		all    = lower + upper + digits + symbol
	)
	pick := func(set string) byte {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic("credential: randomness source failed: " + err.Error())
		}
		return set[v.Int64()]
	}
	out := []byte{pick(lower), pick(upper), pick(digits), pick(symbol)}
	for len(out) < n {
		out = append(out, pick(all))
	}
	// Shuffle, so the classes are not in a fixed order.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			panic("credential: randomness source failed: " + err.Error())
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out)
}
