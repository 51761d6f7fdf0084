package plugin

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

func validateFormat(format string) error {
	if format == "" {
		return nil
	}
	for _, f := range migdir.Formats {
		if f == format {
			return nil
		}
	}
	return exitcode.UsageErrorf("--format %q is not supported: use one of %s", format, strings.Join(migdir.Formats, ", "))
}

func validateObjectName(flag, name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return exitcode.UsageErrorf("%s %q is not a valid object name: %s", flag, name, strings.Join(errs, "; "))
	}
	return nil
}

// reportDir tells on stderr what was done to the directory beyond reading it, so nothing
// happens silently (a recomputed atlas.sum, a conversion, files left out), and its warnings.
func reportDir(w io.Writer, d *migdir.Dir) {
	for _, x := range generate.About(d) {
		fmt.Fprintln(w, cliTerms.Phrase(x))
	}
}

const writeLedgerUsage = "Record new versions of Flyway repeatables and Liquibase runOnChange changesets in --dir's " + migdir.LedgerFile + " (commit it with the migrations); false: read it only, and fail when it lacks one"

// recordLedger writes the directory's rerun ledger when the read needs entries it lacks, and
// says so: the names in the output rest on them. With write false (a read-only checkout, a CI
// check) such a directory is an error instead, as in the kustomize generator. The ledger is
// written before any output, so a failure leaves no output that relies on it.
//
// Beside a ledger it also keeps migdir.GitAttributesLine in the directory's .gitattributes, so
// that Git merges the ledgers of two branches as the union of their lines instead of a
// conflict; failing to write that is a warning, never an error.
func recordLedger(w io.Writer, dir string, d *migdir.Dir, write bool) error {
	if write && d.Ledger != nil {
		keepGitAttributes(w, dir)
	}
	if len(d.LedgerNew) == 0 {
		return nil
	}
	if !write {
		return fmt.Errorf("%w (--write-ledger=false is set: run without it to record them)", d.CheckLedger())
	}
	p := filepath.Join(dir, migdir.LedgerFile)
	if err := fsutil.WriteFile(p, d.Ledger, true); err != nil {
		return fmt.Errorf("recording the versions of the files that run again when edited in %s: %w (pass --write-ledger=false to read it only)", p, err)
	}
	var names []string
	for _, e := range d.LedgerNew {
		names = append(names, e.Name)
	}
	fmt.Fprintf(w, "note: recorded %s in %s: commit it with the migrations (it keeps the versions a database may have recorded; docs/init.md)\n", strings.Join(names, ", "), p)
	return nil
}

// keepGitAttributes adds migdir.GitAttributesLine to dir's .gitattributes when it lacks it.
func keepGitAttributes(w io.Writer, dir string) {
	p := filepath.Join(dir, migdir.GitAttributesFile)
	have, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "warning: reading %s: %v: add the line `%s` to it, or Git merges of two branches' ledgers conflict (docs/init.md)\n", p, err, migdir.GitAttributesLine)
		return
	}
	out, changed := migdir.GitAttributes(have)
	if !changed {
		return
	}
	if err := fsutil.WriteFile(p, out, true); err != nil {
		fmt.Fprintf(w, "warning: writing %s: %v: add the line `%s` to it, or Git merges of two branches' ledgers conflict (docs/init.md)\n", p, err, migdir.GitAttributesLine)
		return
	}
	fmt.Fprintf(w, "note: wrote `%s` to %s: commit it too; Git then merges the ledger lines two branches add as their union, which kubectl-atlas reads in any order (docs/init.md)\n", migdir.GitAttributesLine, p)
}
