package generate

import (
	"context"
	"fmt"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/lint"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// LintWith returns a Request.Lint that runs atlas's analyzers on the dev database at devURL
// (internal/lint, every file analysed): each finding becomes a warning with atlas's code, in the
// file the user edits. A dev database that cannot be reached, or a statement it refuses, is an
// error.
func LintWith(ctx context.Context, devURL string) func(*migdir.Dir) ([]diag.Diagnostic, error) {
	return func(d *migdir.Dir) ([]diag.Diagnostic, error) {
		dev, err := lint.OpenDev(ctx, devURL)
		if err != nil {
			return nil, err
		}
		defer dev.Close()
		res, err := lint.Run(ctx, d, lint.Options{Dev: dev})
		if err != nil {
			if fe, ok := err.(*lint.FileError); ok {
				fe.File = d.Path + "/" + fe.File
			}
			return nil, fmt.Errorf("lint on the dev database: %w", err)
		}
		out := make([]diag.Diagnostic, 0, len(res.Findings))
		for _, f := range res.Findings {
			code := f.Code
			if code == "" {
				code = f.Analyzer
			}
			out = append(out, diag.Diagnostic{Severity: diag.Warning, Code: code, File: f.File, Line: f.Line, Message: f.Text})
		}
		return out, nil
	}
}
