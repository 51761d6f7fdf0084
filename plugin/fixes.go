package plugin

import (
	"errors"
	"fmt"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// cliTerms are the words of a kubectl atlas user for what the generation reports: the flags
// that name each input and fix each case. The libraries say what is wrong; only the command
// knows its flags (the kustomize generator names its config fields).
var cliTerms = generate.Terms{
	Inputs: map[string]string{generate.InputBaseline: "--baseline"},
	Fixes: diag.Fixes{
		scaffold.NoteNeedsToken:       "add --token-secret NAME[:KEY]",
		scaffold.NoteInlinePassword:   "use --url-secret instead",
		scaffold.NoteDefaultNamespace: "pass -n to scaffold for another one",
		generate.CodeRehashed:         "--hash: %s",
	},
	Remedies: migdir.Remedies{
		SumMissing:  "%w, or pass --hash to compute it in the output",
		SumMismatch: "%w (--hash recomputes atlas.sum in the output, without touching the files on disk)",
		Empty:       "%w: point --dir at the folder holding the migrations, or pass --format if they come from another tool",
		TooLarge:    "%w (kubectl atlas init --remote-dir)",
		WrongFormat: "%w (the directory looks like %[2]s: pass --format %[2]s)",
		Destructive: "--deny-destructive is set, nothing written: %w",
		SchemaDir:   "%w: --schema takes one .sql or .hcl file (use --dir for a migration directory)",
	},
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
	return cliTerms.Error(err)
}
