// Package lint runs atlas's own migration analyzers (ariga.io/atlas/sql/sqlcheck: destructive,
// data_depend, incompatible, condrop and each dialect's own, as registered per driver) on a
// migration directory, the way `atlas migrate lint` does: the files before the ones under review
// are replayed on a dev database, then each new file statement by statement, inspecting the
// schema after each one; the analyzers judge the schema changes, not the SQL text.
//
// Directories of other tools arrive converted by internal/migdir; findings point at the file and
// line the user edits (the original tool's file after a conversion).
package lint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/mysql"
	"ariga.io/atlas/sql/sqlcheck"
	"ariga.io/atlas/sql/sqlclient"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// Severity says whether a finding fails the lint.
type Severity string

const (
	// Error is a finding of an analyzer that atlas itself fails on (by default the destructive
	// analyzer: `atlas migrate lint` exits 1 on it).
	Error Severity = "error"
	// Warning is any other finding: atlas reports it and exits 0.
	Warning Severity = "warning"
)

// Rank orders severities: a finding fails a --fail-on level when its rank is at least the
// level's. Unknown severities rank 0.
func (s Severity) Rank() int {
	switch s {
	case Error:
		return 2
	case Warning:
		return 1
	}
	return 0
}

// Finding is one diagnostic of one analyzer.
type Finding struct {
	// File is the file the user edits, relative to the directory (the original tool's file after
	// a conversion); Line is 1-based.
	File string `json:"file"`
	Line int    `json:"line"`
	// Version is the atlas version of the (converted) migration file.
	Version string `json:"version"`
	// Code is the check's code as atlas names it (DS103); empty for a diagnostic without one.
	Code     string   `json:"code,omitempty"`
	Analyzer string   `json:"analyzer"`
	Severity Severity `json:"severity"`
	Text     string   `json:"text"`
	// Report is the analyzer's heading for the group (e.g. "destructive changes detected").
	Report string `json:"report,omitempty"`
	// Fixes are atlas's suggested fixes, as messages.
	Fixes []string `json:"fixes,omitempty"`
}

// Result is the outcome of one run.
type Result struct {
	// Driver is the dev database's driver (postgres, mysql, sqlite).
	Driver string `json:"driver"`
	// Base is the number of files replayed before the ones analysed; Files the number analysed.
	Base  int `json:"base"`
	Files int `json:"files"`
	// From and To are the versions before and at the end of the analysed range ("" for none).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Changes is the number of schema changes the analyzers judged.
	Changes  int       `json:"changes"`
	Findings []Finding `json:"findings"`
}

// Count returns how many findings rank at least s.
func (r *Result) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity.Rank() >= s.Rank() {
			n++
		}
	}
	return n
}

// Options select what is linted.
type Options struct {
	// Dev is the dev database the files are replayed on (see OpenDev). It must be clean: atlas's
	// drivers refuse a dev database that holds objects, and restore it after the run.
	Dev *sqlclient.Client
	// Latest analyses the last N files (the rest are replayed as the base); 0 or less analyses
	// every file.
	Latest int
	// GitBase analyses the files added since the Git revision GitBase (committed on HEAD), as
	// `atlas migrate lint --git-base`: the first added file and every file after it. Exclusive
	// with Latest. git runs in the migration directory.
	GitBase string
}

// FileError is a file that could not be replayed on the dev database (or split).
type FileError struct {
	File string // as Finding.File
	Line int    // 0 when unknown
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Run lints d on o.Dev.
func Run(ctx context.Context, d *migdir.Dir, o Options) (*Result, error) {
	if o.Dev == nil {
		return nil, errors.New("lint: no dev database")
	}
	files, err := loadFiles(d)
	if err != nil {
		return nil, err
	}
	base, feat, err := detect(ctx, d, files, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Driver: o.Dev.Name, Base: len(base), Files: len(feat), Findings: []Finding{}}
	if len(base) > 0 {
		res.From = base[len(base)-1].Version()
	}
	if len(feat) > 0 {
		res.To = feat[len(feat)-1].Version()
	}
	analyzers, err := sqlcheck.AnalyzerFor(analyzerDriver(o.Dev.Name), nil)
	if err != nil {
		return nil, err
	}
	r := &replayer{dev: o.Dev}
	checked, err := r.load(ctx, migrateFiles(base), migrateFiles(feat))
	if err != nil {
		var fe *fileErr
		if errors.As(err, &fe) {
			return res, fe.resolve(files)
		}
		return res, err
	}
	for i, f := range checked {
		for _, c := range f.Changes {
			res.Changes += len(c.Changes)
		}
		found, err := analyze(ctx, o.Dev, f, analyzers)
		if err != nil {
			return res, &FileError{File: feat[i].Source, Err: err}
		}
		// In the file's order (atlas reports analyzer by analyzer).
		sort.SliceStable(found, func(a, b int) bool { return found[a].pos < found[b].pos })
		for _, x := range found {
			x.File, x.Line = feat[i].Source, feat[i].line(x.pos)
			x.Version = feat[i].Version()
			res.Findings = append(res.Findings, x.Finding)
		}
	}
	return res, nil
}

// analyzerDriver is the name the analyzers of driver are registered under. atlas registers
// MySQL's analyzers under "mysql" only, so a dev URL with the maria:// scheme (driver
// "mariadb") would get none: `atlas migrate lint` v1.2.3 then reports nothing at all. MariaDB
// is inspected and diffed by the same driver, so it gets MySQL's analyzers here.
func analyzerDriver(driver string) string {
	if driver == mysql.DriverMaria {
		return mysql.DriverName
	}
	return driver
}

// finding is a Finding with its position in the (converted) file.
type finding struct {
	Finding
	pos int
}

// analyze runs every analyzer on f, honouring `-- atlas:nolint` as atlas does. An analyzer that
// reports and then returns an error is atlas's signal that the run fails (its `error` option):
// its findings are errors. An error without a kept report is a real failure, unless the
// analyzer's reports were all silenced by nolint (atlas then drops the error too).
func analyze(ctx context.Context, dev *sqlclient.Client, f *sqlcheck.File, analyzers []sqlcheck.Analyzer) ([]finding, error) {
	nl := nolintRules(f)
	if nl.ignored {
		return nil, nil
	}
	var (
		out  []finding
		errs []string
	)
	for _, az := range analyzers {
		name := ""
		if n, ok := az.(sqlcheck.NamedAnalyzer); ok {
			name = n.Name()
		}
		var got []finding
		rw := nl.reporterFor(sqlcheck.ReportWriterFunc(func(r sqlcheck.Report) {
			for _, d := range r.Diagnostics {
				x := finding{pos: d.Pos, Finding: Finding{Code: d.Code, Analyzer: name, Severity: Warning, Text: d.Text, Report: r.Text}}
				for _, s := range d.SuggestedFixes {
					if s.Message != "" {
						x.Fixes = append(x.Fixes, s.Message)
					}
				}
				got = append(got, x)
			}
		}), az)
		err := runAnalyzer(ctx, az, name, &sqlcheck.Pass{File: f, Dev: dev, Reporter: rw})
		switch {
		case err != nil && len(got) > 0:
			for i := range got {
				got[i].Severity = Error
			}
		case err != nil && !nl.skipped:
			errs = append(errs, err.Error())
		}
		out = append(out, got...)
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// runAnalyzer runs one analyzer; a panic becomes an error, as in atlas.
func runAnalyzer(ctx context.Context, az sqlcheck.Analyzer, name string, p *sqlcheck.Pass) (err error) {
	defer func() {
		if rc := recover(); rc != nil {
			err = fmt.Errorf("skip crashed analyzer %s: %v", name, rc)
		}
	}()
	return az.Analyze(ctx, p)
}

func migrateFiles(fs []*file) []migrate.File {
	out := make([]migrate.File, len(fs))
	for i, f := range fs {
		out[i] = f.LocalFile
	}
	return out
}
