package plugin

import (
	"errors"
	"fmt"

	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// flagNoteFixes are the flags that act on scaffold's notes.
var flagNoteFixes = scaffold.NoteFixes{
	scaffold.NoteNeedsToken:       "add --token-secret NAME[:KEY]",
	scaffold.NoteInlinePassword:   "use --url-secret instead",
	scaffold.NoteDefaultNamespace: "pass -n to scaffold for another one",
}

// flagRemedies are the fixes a kubectl atlas user makes with a flag: the libraries say what is
// wrong, only the command knows its flags (the kustomize generator names its config fields).
var flagRemedies = migdir.Remedies{
	SumMissing:  "%w, or pass --hash to compute it in the output",
	SumMismatch: "%w (--hash recomputes atlas.sum in the output, without touching the files on disk)",
	Empty:       "%w: point --dir at the folder holding the migrations, or pass --format if they come from another tool",
	TooLarge:    "%w (kubectl atlas init --remote-dir)",
	WrongFormat: "%w (the directory looks like %[2]s: pass --format %[2]s)",
	Destructive: "--deny-destructive is set, nothing written: %w",
}

// withFlagFix adds the flag that fixes a library error, if one does.
func withFlagFix(err error) error {
	var (
		exists *fsutil.ExistsError
		notDir *fsutil.NotDirError
	)
	switch {
	case errors.As(err, &exists):
		return fmt.Errorf("%w: pass --force to overwrite, or choose another folder with --out", err)
	case errors.As(err, &notDir):
		return fmt.Errorf("%w: choose another folder with --out", err)
	}
	return migdir.WithRemedy(err, flagRemedies)
}
