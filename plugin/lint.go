package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/lint"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

const lintLong = `Lint a migration directory with atlas's own analyzers, as 'atlas migrate lint' does: the
files are replayed on a dev database, each file under review statement by statement, and the
analyzers judge the schema changes each statement makes (not its text):

  destructive   DS101 drop schema, DS102 drop table, DS103 drop column
  data_depend   MF101..MF104 unique index / NOT NULL on data that may not fit, MY101/MY102
                (MySQL), LT101 (SQLite)
  incompatible  BC101/BC102 renamed table / column
  condrop       CD101 constraint dropped with the column it uses

Dev database: --dev-url, a throwaway database you own (PostgreSQL, MySQL or MariaDB; it must be
empty and is restored after the run). Without it an embedded in-memory SQLite is used, for
SQLite directories.

Which files are analysed: every file by default; --latest N the last N (the ones before are
replayed as the base); --git-base REF the files added since REF (committed on HEAD) and every
file after the first of them, as atlas.

Every directory format init reads (golang-migrate, goose, Flyway, dbmate, Liquibase SQL, atlas)
is converted the way init converts it; findings point at the file and line you edit.

A statement under '-- atlas:nolint [CODE|ANALYZER ...]' is not reported, as in atlas.

Output (-o): text (file:line: severity: CODE: text), json, or github (workflow-command
annotations for GitHub Actions). Findings of the destructive analyzer are errors (atlas fails
on them too), the others warnings.

Exit codes: 0 no finding at or above --fail-on, 5 findings at or above --fail-on (error:
destructive, the default; warning: any finding; none: never), 1 the directory could not be read
or replayed (a statement failed on the dev database), 2 usage error.`

const lintExample = `  # A SQLite directory, on the embedded in-memory SQLite
  kubectl atlas lint --dir ./migrations

  # The files added on this branch, against a throwaway PostgreSQL database
  kubectl atlas lint --dir ./migrations --dev-url "postgres://postgres:pass@localhost:5432/dev?sslmode=disable" --git-base origin/main

  # The newest golang-migrate file on MySQL, as GitHub Actions annotations
  kubectl atlas lint --dir ./db --format golang-migrate --dev-url mysql://root:pass@localhost:3306/dev --latest 1 -o github`

// lintDevURLUsage is the help of init's and configmap's --lint-dev-url.
const lintDevURLUsage = "Dev database to lint the directory on with atlas's analyzers, as 'kubectl atlas lint' (replaces the offline destructive-statement check; e.g. postgres://..., sqlite://dev?mode=memory)"

// LintOptions lints one migration directory on a dev database.
type LintOptions struct {
	Dir     string
	Format  string
	Hash    bool
	DevURL  string
	Latest  int
	GitBase string
	Output  string
	FailOn  string

	failOn lint.Severity // "" = never
	genericiooptions.IOStreams
}

// NewCmdLint returns the lint command.
func NewCmdLint(streams genericiooptions.IOStreams) *cobra.Command {
	o := &LintOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "lint --dir DIR [--dev-url URL] [--latest N | --git-base REF] [-o text|json|github]",
		Short:   "Lint migrations with atlas's analyzers on a dev database",
		Long:    lintLong,
		Example: lintExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "Migration directory (required)")
	f.StringVar(&o.Format, "format", "", "Directory format: "+strings.Join(migdir.Formats, ", ")+" (default: detected)")
	f.BoolVar(&o.Hash, "hash", false, "Compute atlas.sum instead of validating the one on disk (atlas format)")
	f.StringVar(&o.DevURL, "dev-url", "", "Dev database URL: postgres://, mysql://, maria:// or sqlite:// (default: an in-memory SQLite)")
	f.IntVar(&o.Latest, "latest", 0, "Analyse only the last N files (default: every file)")
	f.StringVar(&o.GitBase, "git-base", "", "Analyse the files added since this Git revision (e.g. origin/main)")
	f.StringVarP(&o.Output, "output", "o", "text", "Output format: text, json or github")
	f.StringVar(&o.FailOn, "fail-on", "error", "Exit 5 on findings at or above: error (destructive changes), warning (any finding) or none")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(migdir.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json", "github"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"error", "warning", "none"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// Complete registers the dev URL's password with the redactor and resolves --fail-on.
func (o *LintOptions) Complete() error {
	if o.DevURL != "" {
		redact.For(o.ErrOut).AddURL(o.DevURL)
	}
	switch o.FailOn {
	case "error", "destructive":
		o.failOn = lint.Error
	case "warning", "any":
		o.failOn = lint.Warning
	case "none":
		o.failOn = ""
	}
	return nil
}

// Validate checks the flags.
func (o *LintOptions) Validate() error {
	if o.Dir == "" {
		return exitcode.UsageErrorf("--dir is required: the migration directory to lint")
	}
	if err := validateFormat(o.Format); err != nil {
		return err
	}
	switch o.Output {
	case "text", "json", "github":
	default:
		return exitcode.UsageErrorf("--output must be text, json or github, not %q", o.Output)
	}
	switch o.FailOn {
	case "error", "destructive", "warning", "any", "none":
	default:
		return exitcode.UsageErrorf("--fail-on must be error, warning or none, not %q", o.FailOn)
	}
	if o.Latest < 0 {
		return exitcode.UsageErrorf("--latest must be a positive number of files, not %d", o.Latest)
	}
	if o.Latest > 0 && o.GitBase != "" {
		return exitcode.UsageErrorf("--latest and --git-base are mutually exclusive")
	}
	return nil
}

// Run reads the directory, lints it and prints the findings.
func (o *LintOptions) Run(ctx context.Context) error {
	dir, err := migdir.Read(o.Dir, migdir.Options{Format: o.Format, Hash: o.Hash})
	if err != nil {
		return withFlagFix(err)
	}
	reportDir(o.ErrOut, dir)
	dev, err := lint.OpenDev(ctx, o.DevURL)
	if err != nil {
		return err
	}
	defer dev.Close()
	res, err := lint.Run(ctx, dir, lint.Options{Dev: dev, Latest: o.Latest, GitBase: o.GitBase})
	if err != nil {
		if fe, ok := err.(*lint.FileError); ok {
			fe.File = path.Join(filepath.ToSlash(dir.Path), fe.File)
		}
		if o.DevURL == "" {
			return fmt.Errorf("%w\n(the dev database is an embedded in-memory SQLite: for a PostgreSQL or MySQL directory pass --dev-url)", err)
		}
		return err
	}
	for i := range res.Findings {
		res.Findings[i].File = path.Join(filepath.ToSlash(dir.Path), res.Findings[i].File)
	}
	if err := o.print(res); err != nil {
		return err
	}
	if o.failOn != "" {
		if n := res.Count(o.failOn); n > 0 {
			return exitcode.Newf(exitcode.Findings, "%d finding(s) at or above --fail-on %s", n, o.FailOn)
		}
	}
	return nil
}

func (o *LintOptions) print(res *lint.Result) error {
	switch o.Output {
	case "json":
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", b)
		return err
	case "github":
		for _, f := range res.Findings {
			writeAnnotation(o.Out, f)
		}
		summary(o.ErrOut, res)
		return nil
	default:
		for _, f := range res.Findings {
			writeText(o.Out, f)
		}
		summary(o.Out, res)
		return nil
	}
}

// writeText prints one finding as a compiler would: file:line: severity: CODE: text.
func writeText(w io.Writer, f lint.Finding) {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	code := f.Code
	if code == "" {
		code = f.Analyzer
	}
	fmt.Fprintf(w, "%s: %s: %s: %s\n", loc, f.Severity, code, f.Text)
	for _, x := range f.Fixes {
		fmt.Fprintf(w, "    fix: %s\n", x)
	}
}

// writeAnnotation prints one GitHub Actions workflow command (::error / ::warning), escaped as
// the runner expects.
func writeAnnotation(w io.Writer, f lint.Finding) {
	level := "warning"
	if f.Severity == lint.Error {
		level = "error"
	}
	title := f.Analyzer
	if f.Code != "" {
		title = f.Code + " (" + f.Analyzer + ")"
	}
	props := "file=" + ghProperty(f.File)
	if f.Line > 0 {
		props += fmt.Sprintf(",line=%d", f.Line)
	}
	props += ",title=" + ghProperty(title)
	msg := f.Text
	if f.Code != "" {
		msg += "\nhttps://atlasgo.io/lint/analyzers#" + f.Code
	}
	for _, x := range f.Fixes {
		msg += "\nfix: " + x
	}
	fmt.Fprintf(w, "::%s %s::%s\n", level, props, ghData(msg))
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func summary(w io.Writer, res *lint.Result) {
	rng := ""
	switch {
	case res.Files == 0:
		fmt.Fprintf(w, "no file to analyse (%d replayed on %s)\n", res.Base, res.Driver)
		return
	case res.From != "":
		rng = fmt.Sprintf("after version %s up to %s", res.From, res.To)
	default:
		rng = "up to version " + res.To
	}
	errs, all := res.Count(lint.Error), len(res.Findings)
	fmt.Fprintf(w, "%d file(s) analysed %s on %s (%d replayed before): %d schema change(s), %d finding(s): %d error(s), %d warning(s)\n",
		res.Files, rng, res.Driver, res.Base, res.Changes, all, errs, all-errs)
}
