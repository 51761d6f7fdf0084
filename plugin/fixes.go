package plugin

import (
	"errors"
	"fmt"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// withFlagFix adds to a library error the fix a kubectl atlas user makes with a flag: the
// libraries say what is wrong, only the command knows its flags (the kustomize generator
// phrases the same errors with its config fields).
func withFlagFix(err error) error {
	var (
		sum      *migdir.SumError
		empty    *migdir.EmptyError
		large    *migdir.TooLargeError
		exists   *fsutil.ExistsError
		notDir   *fsutil.NotDirError
		destruct *migdir.DestructiveError
		format   *migdir.WrongFormatError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &format):
		return fmt.Errorf("%w (the directory looks like %s: pass --format %s)", withFlagFix(format.Err), format.Looks, format.Looks)
	case errors.As(err, &sum) && sum.Reason == migdir.SumMissing:
		return fmt.Errorf("%w, or pass --hash to compute it in the output", err)
	case errors.As(err, &sum):
		return fmt.Errorf("%w (--hash recomputes atlas.sum in the output, without touching the files on disk)", err)
	case errors.As(err, &empty):
		return fmt.Errorf("%w: point --dir at the folder holding the migrations, or pass --format if they come from another tool", err)
	case errors.As(err, &large):
		return fmt.Errorf("%w (kubectl atlas init --remote-dir)", err)
	case errors.As(err, &exists):
		return fmt.Errorf("%w: pass --force to overwrite, or choose another folder with --out", err)
	case errors.As(err, &notDir):
		return fmt.Errorf("%w: choose another folder with --out", err)
	case errors.As(err, &destruct):
		return exitcode.Newf(exitcode.Failure, "--deny-destructive is set, nothing written: %v", err)
	}
	return err
}
