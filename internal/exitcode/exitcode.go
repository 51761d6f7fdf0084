// Package exitcode holds the process exit codes of kubectl-atlas and an error type that
// carries one, so commands can return a plain error and main decides the code in one place.
//
// The codes are part of the CLI contract (README, --help): scripts branch on them.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes. Keep README.md ("Exit codes") and plugin/root.go's help text in step.
const (
	OK          = 0   // success
	Failure     = 1   // any error: bad input, API error, a write that failed
	Usage       = 2   // wrong flags or arguments
	Degraded    = 3   // a resource is Degraded (wait, apply), a doctor FAIL, or a health test case failed
	Timeout     = 4   // --timeout expired before the resources became healthy
	Findings    = 5   // lint found changes at or above --fail-on
	Interrupted = 130 // SIGINT/SIGTERM (128+2, as shells report Ctrl-C)
)

// Error wraps an error with the exit code the process should end with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns err carrying code; nil stays nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Newf formats a message and wraps it with code.
func Newf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// UsageErrorf is a usage error (exit 2), e.g. a missing required flag.
func UsageErrorf(format string, args ...any) error {
	return Newf(Usage, format, args...)
}

// Code decides the exit code from the cause of err, however deeply it is wrapped: a context
// cancelled by a signal (Interrupted) or past its deadline (Timeout), also when that happened
// inside an API request; else the code an *Error carries; else an error that says it is about a
// Degraded object (a Degraded() bool method, as library packages' typed errors have); else
// Failure. OK for nil.
func Code(err error) int {
	if err == nil {
		return OK
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Interrupted
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var d interface{ Degraded() bool }
	if errors.As(err, &d) && d.Degraded() {
		return Degraded
	}
	return Failure
}
