package provisioning

import (
	"errors"
	"fmt"
	"time"
)

// RetryableError marks a failure worth retrying: throttling, a timeout, a
// 5xx answer. The runner reschedules the job with backoff, or after
// RetryAfter when the remote side said when to come back.
type RetryableError struct {
	Err        error
	RetryAfter time.Duration // 0: use the backoff schedule
}

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable marks err as retryable, optionally after a given delay.
func Retryable(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryableError{Err: err, RetryAfter: retryAfter}
}

// PermanentError marks a failure that retrying cannot fix: invalid input,
// access denied, a missing resource the job needs. The job fails at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as permanent.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// classify reports whether err is permanent and the delay it asks for. An
// error that is neither Retryable nor Permanent is retried: most unexpected
// failures of a remote call are transient.
func classify(err error) (permanent bool, retryAfter time.Duration) {
	var p *PermanentError
	var r *RetryableError
	switch {
	case errors.As(err, &p):
		return true, 0
	case errors.As(err, &r):
		return false, r.RetryAfter
	}
	return false, 0
}

// maxErrorLen bounds LastError.
const maxErrorLen = 2000

func errorText(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen] + "…"
	}
	return s
}

// panicError is a handler panic turned into a permanent failure: a panic is
// a bug, and retrying it only repeats it.
func panicError(v any) error { return Permanent(fmt.Errorf("handler panicked: %v", v)) }
