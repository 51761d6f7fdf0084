package migdir

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"

	"ariga.io/atlas/sql/migrate"
)

// A format is another migration tool's directory: everything migdir knows of one tool lives in
// its file (golang_migrate.go, goose.go, flyway.go, dbmate.go, liquibase.go) and the tool is
// listed once in formats below. convert.go runs the steps the same way for every tool. atlas's
// own directories (atlas.go) are not a format of this kind: they are read as they are, never
// converted.
//
// Adding a tool: a file with its type, a line in formats, a fixture in testdata/<name> with a
// golden file in testdata/golden.
type format interface {
	info() *about
	// detect reports whether the directory's file names mark it as this tool's (names are its
	// top-level files); detectFile whether the content of one top-level .sql file does. Detect
	// asks every format about names first, then about each file in name order.
	detect(fsys fs.FS, names []string) bool
	detectFile(b []byte) bool
	// collect lists the up migrations the tool would run, their content read (readSource), and
	// adds what the tool leaves out to d.Ignored.
	collect(fsys fs.FS, d *Dir) ([]*source, error)
	// order puts the migrations in the tool's apply order (a baseline applied, files split as
	// the tool runs them) and refuses what the tool would refuse (rejectDuplicates).
	order(srcs []*source) ([]*source, error)
	// version is the atlas version of the converted file of s (naming.go says why it sorts).
	version(s *source) string
	// baseline is the atlas version of a version as the tool names it (v when it names none).
	baseline(v string) string
	// statements are what the tool would run of s, and in a transaction or not.
	statements(s *source) ([]*migrate.Stmt, txChoice, error)
}

// A warner is a format with warnings of its own about a source file, after the ones every
// conversion makes.
type warner interface {
	warnings(s *source) []Warning
}

// about is what a format tells in words and tables; its info method serves the interface.
type about struct {
	name  string // the name of --format and spec.format
	title string // the tool's name in sentences (Flyway, goose)
	files string // the file names it reads, for "none found"
	// baselineHint says where the tool records the last version it applied.
	baselineHint string
	// tables are the tool's tracking tables, which a converted file should no longer write.
	tables []string
	// asWritten: versions are kept as written, so the converted names sort as the source names
	// did only with the '_' after the version, description or not.
	asWritten bool
	// rerun says why files that run again when edited need execOrder: non-linear.
	rerun string
}

func (a *about) info() *about { return a }

// formats are the tools migdir converts, in the order of Formats and of detection.
var formats = []format{golangMigrate, goose, flyway, dbmate, liquibase}

// Formats lists the supported formats, atlas first.
var Formats = func() []string {
	out := []string{FormatAtlas}
	for _, f := range formats {
		out = append(out, f.info().name)
	}
	return out
}()

// lookup is the format of a name; nil for atlas and unknown names.
func lookup(name string) format {
	for _, f := range formats {
		if f.info().name == name {
			return f
		}
	}
	return nil
}

// aboutFormat is what a format (atlas included) tells; nil for unknown names.
func aboutFormat(name string) *about {
	if name == FormatAtlas {
		return &atlasAbout
	}
	if f := lookup(name); f != nil {
		return f.info()
	}
	return nil
}

// Detect guesses the format of a directory from its file names and first lines. A directory
// with atlas.sum, or none of the other tools' marks, is atlas.
func Detect(fsys fs.FS) (string, error) {
	if _, err := fs.Stat(fsys, SumFile); err == nil {
		return FormatAtlas, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", fmt.Errorf("reading the migration directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() == SumFile {
			return FormatAtlas, nil
		}
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	for _, f := range formats {
		if f.detect(fsys, names) {
			return f.info().name, nil
		}
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			continue
		}
		b = bytes.TrimPrefix(b, utf8BOM) // a byte order mark would hide the first line's header
		for _, f := range formats {
			if f.detectFile(b) {
				return f.info().name, nil
			}
		}
	}
	return FormatAtlas, nil
}

// anyName reports whether re matches one of names.
func anyName(names []string, re *regexp.Regexp) bool {
	for _, n := range names {
		if re.MatchString(n) {
			return true
		}
	}
	return false
}

// trackingTables is a pattern that finds the tracking tables of every format, and the tools
// that own each (compiled on first use, as lazyRegexp).
var trackingTables = sync.OnceValues(func() (*regexp.Regexp, map[string]string) {
	by := map[string][]string{}
	var tables []string
	for _, f := range formats {
		for _, t := range f.info().tables {
			if by[t] == nil {
				tables = append(tables, t)
			}
			by[t] = append(by[t], f.info().title+"'s")
		}
	}
	sort.SliceStable(tables, func(i, j int) bool { return len(tables[i]) > len(tables[j]) })
	names := map[string]string{}
	for t, tools := range by {
		names[t] = strings.Join(tools, " and ")
	}
	return regexp.MustCompile(`(?i)\b(` + strings.Join(tables, "|") + `)\b`), names
})

// lazyRegexp compiles expr on first use. The binary starts on every TAB completion, and
// compiling this package's expressions at init cost about a millisecond of each start, for
// runs that never read a migration directory.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
