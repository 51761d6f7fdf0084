package plugin

import (
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
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
// happens silently (a recomputed atlas.sum, a conversion, files left out).
func reportDir(w io.Writer, d *migdir.Dir) {
	switch {
	case d.Format != migdir.FormatAtlas:
		fmt.Fprintf(w, "note: converted %d %s migration(s) in %s to atlas format with a fresh atlas.sum (versions %s .. %s)\n",
			len(d.Versions()), d.Format, d.Path, d.Versions()[0], d.LatestVersion())
	case d.Rehashed:
		fmt.Fprintf(w, "note: --hash: atlas.sum computed over %d file(s) of %s; the atlas.sum on disk (if any) was neither read nor changed\n", len(d.Versions()), d.Path)
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "warning: %s\n", path.Join(filepath.ToSlash(d.Path), x.String()))
	}
	if len(d.Ignored) > 0 {
		shown := d.Ignored
		more := ""
		if len(shown) > 5 {
			more = fmt.Sprintf(" and %d more", len(shown)-5)
			shown = shown[:5]
		}
		fmt.Fprintf(w, "note: not part of the migration directory, left out: %s%s\n", strings.Join(shown, ", "), more)
	}
}
