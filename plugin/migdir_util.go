package plugin

import (
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
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
