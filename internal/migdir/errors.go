package migdir

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// The errors below are the ones whose fix depends on who called: a CLI flag, a field of the
// kustomize generator's config, or nothing. They say what is wrong and what the atlas CLI can
// do about it; each entry point adds its own way (errors.As) and this package names none.

// SumReason says what is wrong with atlas.sum.
type SumReason int

const (
	SumMissing       SumReason = iota // no atlas.sum in the directory
	SumFileAdded                      // a migration file is not listed in atlas.sum
	SumFileRemoved                    // atlas.sum lists a file that is gone
	SumFileEdited                     // a file's hash differs from atlas.sum's
	SumMalformed                      // atlas.sum is not in atlas's format
	SumTotalMismatch                  // the first line does not match the entries
)

// SumError is an atlas.sum that is missing or does not match the files, as the operator's
// atlas would refuse it. Recomputing atlas.sum fixes it when the change is intended.
type SumError struct {
	File   string // the file concerned: atlas.sum, or the migration file that changed
	Reason SumReason
	Line   int // the atlas.sum line of File, for removed and edited files
}

func (e *SumError) Error() string {
	const fix = "If the change is intended, run `atlas migrate hash`; otherwise restore the file. Applied migrations must never be edited"
	var msg string
	switch e.Reason {
	case SumMissing:
		msg = "not found: the directory has no integrity file, so the operator's atlas would refuse it. Run `atlas migrate hash` in the directory"
	case SumFileAdded:
		msg = "was added since atlas.sum was written (atlas.sum does not list it: checksum mismatch). " + fix
	case SumFileRemoved:
		msg = fmt.Sprintf("was removed since atlas.sum was written (atlas.sum line %d lists it: checksum mismatch). %s", e.Line, fix)
	case SumFileEdited:
		msg = fmt.Sprintf("was edited since atlas.sum was written (atlas.sum line %d: checksum mismatch). %s", e.Line, fix)
	case SumMalformed:
		msg = "malformed: every line after the first must be `<file> h1:<hash>`. Recreate it with `atlas migrate hash`"
	default:
		msg = "line 1: the total hash does not match the file entries (checksum mismatch): atlas.sum was edited by hand or merged badly. Recreate it with `atlas migrate hash`"
	}
	return e.File + ": " + msg
}

// EmptyError is a directory without migration files: usually the wrong folder, or another
// tool's layout read as atlas.
type EmptyError struct {
	Ignored []string // what the directory holds instead
}

func (e *EmptyError) Error() string {
	msg := "no migration files (*.sql) found"
	if len(e.Ignored) > 0 {
		shown := e.Ignored
		if len(shown) > 5 {
			shown = shown[:5]
		}
		msg += fmt.Sprintf(" (only %s)", strings.Join(shown, ", "))
	}
	return msg
}

// TooLargeError is a directory past what one ConfigMap holds.
type TooLargeError struct {
	Size    int
	Largest []string // "name (size)" of the largest files, largest first
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the migration directory is %s, past the 1 MiB a ConfigMap can hold. Largest files: %s. "+
		"Remedies: squash applied migrations into a checkpoint file (`atlas migrate checkpoint`) and drop the files before it, "+
		"move large data loads out of the migrations, or push the directory to Atlas Cloud and use a remote directory",
		kib(e.Size), strings.Join(e.Largest, ", "))
}

// WrongFormatError is a failure to read a directory in the format asked for, when it looks like
// another format: the caller says how to ask for that one.
type WrongFormatError struct {
	Err   error  // what went wrong in the format asked for
	Looks string // the format the directory looks like
}

func (e *WrongFormatError) Error() string {
	return fmt.Sprintf("%v (the directory looks like %s)", e.Err, e.Looks)
}

func (e *WrongFormatError) Unwrap() error { return e.Err }

// emptyError is the EmptyError of a directory holding only ignored.
func emptyError(ignored []string) error { return &EmptyError{Ignored: ignored} }

// withDir returns err with its file name prefixed by dir, for the errors that carry one.
func withDir(dir string, err error) (error, bool) {
	var wf *WrongFormatError
	if errors.As(err, &wf) {
		inner, _ := withDir(dir, wf.Err)
		return &WrongFormatError{Err: inner, Looks: wf.Looks}, true
	}
	var se *SumError
	if errors.As(err, &se) {
		c := *se
		c.File = path.Join(filepathToSlash(dir), se.File)
		return &c, true
	}
	var pe *pathError
	if errors.As(err, &pe) {
		return &pathError{file: path.Join(filepathToSlash(dir), pe.file), msg: pe.msg}, true
	}
	return err, false
}

// Remedies are an entry point's words for fixing the errors above: each is a fmt format whose
// %w is the error (WrongFormat also gets the format the directory looks like as its second
// argument); an empty one adds nothing. The library names no flag; the caller's remedies do.
type Remedies struct {
	SumMissing  string // atlas.sum is missing
	SumMismatch string // atlas.sum does not match the files
	Empty       string // no migration files
	TooLarge    string // past what a ConfigMap holds
	WrongFormat string // the directory looks like another format
	Destructive string // destructive changes the caller refuses
	SchemaDir   string // a directory given as a schema file
}

// WithRemedy returns err with the caller's remedy for it, or err as it is.
func WithRemedy(err error, r Remedies) error {
	var (
		format    *WrongFormatError
		sum       *SumError
		empty     *EmptyError
		large     *TooLargeError
		destruct  *DestructiveError
		schemaDir *SchemaDirError
	)
	with := func(f string, args ...any) error {
		if f == "" {
			return err
		}
		return fmt.Errorf(f, append([]any{err}, args...)...)
	}
	switch {
	case errors.As(err, &format):
		if r.WrongFormat == "" {
			return err
		}
		return fmt.Errorf(r.WrongFormat, WithRemedy(format.Err, r), format.Looks)
	case errors.As(err, &sum) && sum.Reason == SumMissing:
		return with(r.SumMissing)
	case errors.As(err, &sum):
		return with(r.SumMismatch)
	case errors.As(err, &empty):
		return with(r.Empty)
	case errors.As(err, &large):
		return with(r.TooLarge)
	case errors.As(err, &destruct):
		return with(r.Destructive)
	case errors.As(err, &schemaDir):
		return with(r.SchemaDir)
	}
	return err
}
