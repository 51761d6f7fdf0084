// Package generate is the one generation pipeline behind `kubectl atlas init`, `kubectl atlas
// configmap` and the kustomize generator: read the source (a migration directory or a schema
// file), report what the user should know about it, build the objects and, for a folder, the
// files around them. The entry points are adapters: their flags or config fields in, a Request;
// a Result out, phrased in their own words with their Terms. So they report the same things the
// same way by construction.
package generate

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// Request is one generation. Set at most one source, Dir or Schema; Options carries the rest
// (target, waves, a remote directory or schema URL as the source instead).
type Request struct {
	// Options are the build's inputs; Generate fills in Dir, Baseline and Schema from the
	// fields below.
	Options scaffold.Options

	// Dir is the migration directory to read (versioned flow), read with Read. DirShown is the
	// path as the user wrote it, which diagnostics and errors name ("" means Dir).
	Dir      string
	DirShown string
	Read     migdir.Options
	// Baseline is the version the database is at, as the source tool names it.
	Baseline string
	// Lint, when set, judges the directory instead of the offline text check
	// (migdir.Dir.Destructive): atlas's analyzers on a dev database (internal/lint, see
	// LintWith). It returns diagnostics in d's files, relative to the directory.
	Lint func(d *migdir.Dir) ([]diag.Diagnostic, error)
	// Schema is the schema file to read (declarative flow); SchemaShown as for Dir.
	Schema      string
	SchemaShown string

	// ConfigMapOnly builds the migrations ConfigMap alone (the configmap verb).
	ConfigMapOnly bool
	// Folder renders the files of a GitOps folder around the objects (init --out), with an Argo
	// CD Application and the health-check Component when Application is set.
	Folder      bool
	Application *scaffold.ArgoCDOptions
}

// Result is what a generation made and found.
type Result struct {
	Objects []scaffold.Object
	// Files are the folder's files, sorted by path, with Request.Folder.
	Files []scaffold.File
	// Diagnostics are what the user should know, in the order found: the directory's (what was
	// done to it, its warnings, its destructive statements), then the build's notes.
	Diagnostics []diag.Diagnostic
	// Dir is the directory read, if any.
	Dir *migdir.Dir
}

// Unstructured returns the bare objects, in order.
func (r *Result) Unstructured() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(r.Objects))
	for i, o := range r.Objects {
		out[i] = o.Unstructured
	}
	return out
}

// Inputs of a Request an error can name (InputError); each entry point has its own word for each.
const (
	InputBaseline = "baseline"
)

// InputError is a value of one input that does not fit.
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return e.Input + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Codes of the diagnostics Generate adds about a directory.
const (
	// CodeRehashed: atlas.sum was computed instead of validated (migdir.Options.Hash).
	CodeRehashed = "rehashed"
)

// Generate runs the pipeline. On an error the Result still holds the diagnostics found before
// it, which an entry point shows with the error.
func Generate(req Request) (*Result, error) {
	res := &Result{}
	opts := req.Options
	switch {
	case req.Dir != "":
		d, err := migdir.Read(req.Dir, req.Read)
		if err != nil {
			return res, err
		}
		if req.DirShown != "" {
			d.Path = req.DirShown
		}
		res.Dir, opts.Dir = d, d
		if err := res.readDir(d, req.Options.DenyDestructive, req.Lint); err != nil {
			return res, err
		}
		if req.Baseline != "" {
			if opts.Baseline, err = d.BaselineVersion(req.Baseline); err != nil {
				return res, &InputError{Input: InputBaseline, Err: fmt.Errorf("%s: %w", d.Path, err)}
			}
		}
	case req.Schema != "":
		shown := req.SchemaShown
		if shown == "" {
			shown = req.Schema
		}
		b, err := migdir.ReadSchemaFile(req.Schema, shown)
		if err != nil {
			return res, err
		}
		opts.Schema = &scaffold.SchemaFile{FileName: filepath.Base(shown), Data: b}
	}
	if req.ConfigMapOnly {
		return res, res.configMap(opts)
	}
	built, err := scaffold.Build(opts)
	if err != nil {
		return res, err
	}
	res.Objects = built.Objects
	res.Diagnostics = append(res.Diagnostics, built.Notes...)
	if req.Folder {
		return res, res.folder(opts.Namespace, req.Application)
	}
	return res, nil
}

// readDir adds d's diagnostics (About) and its destructive statements (or, with lint, every
// finding of the analyzers), files named below d.Path; with deny, destructive changes are a
// *migdir.DestructiveError after them.
func (r *Result) readDir(d *migdir.Dir, deny bool, lint func(*migdir.Dir) ([]diag.Diagnostic, error)) error {
	r.Diagnostics = append(r.Diagnostics, About(d)...)
	var found []diag.Diagnostic
	if lint != nil {
		var err error
		if found, err = lint(d); err != nil {
			return err
		}
	} else {
		found = d.Destructive()
	}
	var destructive []diag.Diagnostic
	for _, x := range found {
		r.Diagnostics = append(r.Diagnostics, x.In(filepath.ToSlash(d.Path)))
		if diag.Destructive(x.Code) {
			destructive = append(destructive, x)
		}
	}
	if deny && len(destructive) > 0 {
		return &migdir.DestructiveError{Dir: d.Path, Diagnostics: destructive}
	}
	return nil
}

// About says what was done to d beyond reading it (a conversion, a recomputed atlas.sum, files
// left out) and gives its warnings, files named below d.Path, so nothing happens silently.
func About(d *migdir.Dir) []diag.Diagnostic {
	var r Result
	switch {
	case d.Format != migdir.FormatAtlas:
		kept := ""
		if n := d.Kept(); n > 0 {
			kept = fmt.Sprintf(", plus %d file(s) without statements from %s (earlier versions and the change marker)", n, migdir.LedgerFile)
		}
		r.info("", "converted %d %s migration(s) in %s to atlas format with a fresh atlas.sum (versions %s .. %s)%s",
			len(d.Versions())-d.Kept(), d.Format, d.Path, d.Versions()[0], d.LatestVersion(), kept)
	case d.Rehashed:
		r.info(CodeRehashed, "atlas.sum computed over %d file(s) of %s; the atlas.sum on disk (if any) was neither read nor changed", len(d.Versions()), d.Path)
	}
	for _, w := range d.Warnings {
		w.Severity = diag.Warning
		r.Diagnostics = append(r.Diagnostics, w.In(filepath.ToSlash(d.Path)))
	}
	if len(d.Ignored) > 0 {
		shown, more := d.Ignored, ""
		if len(shown) > 5 {
			shown, more = shown[:5], fmt.Sprintf(" and %d more", len(shown)-5)
		}
		r.info("", "not part of the migration directory, left out: %s%s", strings.Join(shown, ", "), more)
	}
	return r.Diagnostics
}

func (r *Result) configMap(opts scaffold.Options) error {
	if opts.Dir == nil {
		return errors.New("the migrations ConfigMap needs a migration directory")
	}
	cm, notes, err := scaffold.MigrationsConfigMap(scaffold.ConfigMapOptions{Name: opts.Name, Namespace: opts.Namespace, Dir: opts.Dir})
	if err != nil {
		return err
	}
	r.Objects = []scaffold.Object{{Role: scaffold.RoleConfigMap, Unstructured: cm}}
	r.Diagnostics = append(r.Diagnostics, notes...)
	// What the AtlasMigration reading the ConfigMap needs: a user who writes it by hand has no
	// other way to learn that atlas would stop at the first edited repeatable, or which
	// converted version stands for the old tool's one.
	if why := opts.Dir.NonLinearReason(); why != "" {
		r.info("", "the AtlasMigration that reads this ConfigMap needs spec.execOrder: non-linear: %s (without it atlas stops with \"migration file ... was added out of order\"); %s", why, opts.Dir.RerunCaveat())
	}
	if opts.Baseline != "" {
		r.info("", "the AtlasMigration that reads this ConfigMap needs spec.baseline: %q, so atlas records that file as applied and starts after it", opts.Baseline)
	}
	return nil
}

func (r *Result) info(code, format string, args ...any) {
	r.Diagnostics = append(r.Diagnostics, diag.Diagnostic{Severity: diag.Info, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (r *Result) folder(namespace string, app *scaffold.ArgoCDOptions) error {
	folder := scaffold.FolderOptions{Namespace: namespace, Objects: r.Objects}
	if app != nil {
		a, err := scaffold.ArgoCDApplication(*app)
		if err != nil {
			return err
		}
		patch, err := healthcheck.Render(healthcheck.GenerateOptions{Format: healthcheck.FormatKustomize})
		if err != nil {
			return fmt.Errorf("rendering the Argo CD health checks: %w", err)
		}
		folder.Application, folder.HealthPatch = a, patch
	}
	files, err := scaffold.Folder(folder)
	r.Files = files
	return err
}

// Terms are an entry point's words for what the pipeline reports, in one table: the name of
// each input, the fix of each diagnostic code, the fix of each typed error of migdir.
type Terms struct {
	Inputs   map[string]string
	Fixes    diag.Fixes
	Remedies migdir.Remedies
}

// Phrase is d as the entry point prints it.
func (t Terms) Phrase(d diag.Diagnostic) string { return t.Fixes.Phrase(d) }

// Error is err with the entry point's name for the input concerned and its fix, if it has one.
func (t Terms) Error(err error) error {
	var in *InputError
	if errors.As(err, &in) {
		if name := t.Inputs[in.Input]; name != "" {
			return fmt.Errorf("%s: %w", name, in.Err)
		}
	}
	return migdir.WithRemedy(err, t.Remedies)
}
