package kustomize

import (
	"errors"
	"fmt"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// withFieldFix adds to a library error the fix a kustomize user makes in the generator's
// config; the same errors from `kubectl atlas init` name its flags instead.
func withFieldFix(err error) error {
	var (
		sum      *migdir.SumError
		empty    *migdir.EmptyError
		destruct *migdir.DestructiveError
		format   *migdir.WrongFormatError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &format):
		return fmt.Errorf("%w (the directory looks like %s: set spec.format: %s)", withFieldFix(format.Err), format.Looks, format.Looks)
	case errors.As(err, &sum):
		return fmt.Errorf("%w; commit atlas.sum with the migrations of spec.dir", err)
	case errors.As(err, &empty):
		return fmt.Errorf("%w: point spec.dir at the folder holding the migrations, or set spec.format if they come from another tool", err)
	case errors.As(err, &destruct):
		return fmt.Errorf("spec.denyDestructive is set: %w", err)
	}
	return err
}
