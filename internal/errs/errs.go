// Package errs defines transport-neutral error kinds. Domain packages return
// them; each surface (Okta JSON API, HTML pages, SAML) maps a kind to its own
// wire format. Only the Msg and field messages of an *Error are safe to show
// to users; the wrapped cause is for logs.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the surfaces that render it.
type Kind int

// The kinds of error a surface knows how to render.
const (
	Internal     Kind = iota // unexpected; details are never shown
	Invalid                  // the input is wrong; Fields says where
	NotFound                 // the named resource does not exist
	Conflict                 // a uniqueness or concurrent-change conflict
	Forbidden                // the caller may not do this
	Unauthorized             // the caller is not authenticated
	IllegalState             // the operation is not allowed in the resource's current state
	TooLarge                 // the request is larger than allowed
	RateLimited              // too many requests
	Unavailable              // a dependency is down; retry later
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthorized:
		return "unauthorized"
	case IllegalState:
		return "illegal state"
	case TooLarge:
		return "too large"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	}
	return "internal"
}

// FieldError names one input field and what is wrong with it, in words a
// person can act on.
type FieldError struct {
	Field   string
	Message string
}

// Error is a classified error whose Msg is safe to show.
type Error struct {
	Kind   Kind
	Msg    string       // safe to show to the caller
	Fields []FieldError // for Invalid and Conflict
	Code   string       // optional surface-specific code hint (for example an Okta errorCode)
	Err    error        // cause, for logs only
}

func (e *Error) Error() string {
	s := e.Msg
	if s == "" {
		s = e.Kind.String()
	}
	for _, f := range e.Fields {
		s += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New builds an error of the given kind with a message safe to show.
func New(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }

// Invalidf reports invalid input with a safe message.
func Invalidf(format string, args ...any) *Error {
	return &Error{Kind: Invalid, Msg: fmt.Sprintf(format, args...)}
}

// InvalidFields reports invalid input, one entry per field.
func InvalidFields(msg string, fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Msg: msg, Fields: fields}
}

// Field is shorthand for a FieldError.
func Field(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing resource.
func NotFoundf(format string, args ...any) *Error {
	return &Error{Kind: NotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflictf reports a conflict.
func Conflictf(format string, args ...any) *Error {
	return &Error{Kind: Conflict, Msg: fmt.Sprintf(format, args...)}
}

// Forbiddenf reports a permission failure.
func Forbiddenf(format string, args ...any) *Error {
	return &Error{Kind: Forbidden, Msg: fmt.Sprintf(format, args...)}
}

// IllegalStatef reports an operation refused in the current state.
func IllegalStatef(format string, args ...any) *Error {
	return &Error{Kind: IllegalState, Msg: fmt.Sprintf(format, args...)}
}

// Wrap classifies a cause under a kind with a safe message.
func Wrap(k Kind, msg string, cause error) *Error { return &Error{Kind: k, Msg: msg, Err: cause} }

// KindOf returns the kind of err, Internal when it is not classified.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the classified error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is classified with kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
