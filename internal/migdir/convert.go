package migdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Other tools' directories are converted in memory: each up migration becomes one atlas file
// named <version>_<description>.sql holding the statements the tool would run (down sections
// dropped), with `-- atlas:txmode none` where the tool would run it outside a transaction, and
// a fresh atlas.sum is computed. The steps are the same for every tool; what differs is the
// tool's format (format.go). naming.go says how versions are written.

var (
	reNotKeyChar  = lazyRegexp(`[^-._a-zA-Z0-9]+`)
	utf8BOM       = []byte("\ufeff")
	maxDescLength = 200
)

// source is one migration file of another tool.
type source struct {
	path    string
	data    []byte   // content, a UTF-8 byte order mark removed
	raw     string   // the version as written in the file name
	version []uint64 // numeric components; nil where the tool has none (Flyway repeatables)
	desc    string
	rerun   bool // the tool runs it again when it is edited (File.Rerun)
	meta    any  // the format's own (Flyway's prefix and script configuration, a Liquibase part)
}

// convert reads another tool's directory into atlas format with a fresh atlas.sum.
func convert(fsys fs.FS, f format) (*Dir, error) {
	d := &Dir{Rehashed: true}
	srcs, err := f.collect(fsys, d)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, emptyErrorFormat(fsys, f.info(), d.Ignored)
	}
	if srcs, err = f.order(srcs); err != nil {
		return nil, err
	}
	w, _ := f.(warner)
	seen := map[string]string{}
	for _, s := range srcs {
		stmts, tx, err := f.statements(s)
		if err != nil {
			return nil, sourceError(s, err)
		}
		if tx.warn != "" {
			d.Warnings = append(d.Warnings, Warning{File: s.path, Message: tx.warn})
		}
		name := f.version(s)
		if desc := sanitizeDesc(s.desc); desc != "" || f.info().asWritten {
			name += "_" + desc
		}
		name += ".sql"
		if prev, ok := seen[name]; ok {
			return nil, fileErrorf(s.path, "converts to the same atlas file name %s as %s: rename one of them", name, prev)
		}
		if len(name) > validation.DNS1123SubdomainMaxLength {
			return nil, fileErrorf(s.path, "converts to a file name of %d characters, past the %d of a ConfigMap key: shorten the description", len(name), validation.DNS1123SubdomainMaxLength)
		}
		seen[name] = s.path
		content, err := render(name, stmts, tx.directives())
		if err != nil {
			return nil, fileErrorf(s.path, "%v", err)
		}
		d.Warnings = append(d.Warnings, trackingTableWarnings(s.path, s.data)...)
		if w != nil {
			d.Warnings = append(d.Warnings, w.warnings(s)...)
		}
		d.Files = append(d.Files, File{Name: name, Data: content, Source: s.path, src: s.data, Rerun: s.rerun, key: rerunKey(s)})
	}
	if err := d.applyLedger(fsys); err != nil {
		return nil, err
	}
	return d, d.appendSum(d.sqlFiles())
}

func emptyErrorFormat(fsys fs.FS, f *about, ignored []string) error {
	err := emptyError(ignored)
	if looks, _ := Detect(fsys); looks != f.name && looks != FormatAtlas {
		return &WrongFormatError{Err: fmt.Errorf("no %s migration files (%s) found", f.name, f.files), Looks: looks}
	}
	return fmt.Errorf("%s migration files (%s): %w", f.name, f.files, err)
}

// collectNumbered lists the top-level files named <number>_<description> by re (the number
// and the description its groups). strict: another .sql file (but a down migration) is an
// error rather than left out.
func collectNumbered(fsys fs.FS, d *Dir, name string, re *regexp.Regexp, strict bool) ([]*source, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the migration directory: %w", err)
	}
	var srcs []*source
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() {
			d.Ignored = append(d.Ignored, file+"/")
			continue
		}
		m := re.FindStringSubmatch(file)
		if m == nil {
			if strict && strings.HasSuffix(file, ".sql") && !strings.HasSuffix(file, ".down.sql") {
				return nil, fileErrorf(file, "not a %s migration file name: expected <version>_<name>.sql with a numeric version", name)
			}
			d.Ignored = append(d.Ignored, file)
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fileErrorf(file, "version %s is out of range", m[1])
		}
		b, err := readSource(fsys, file, d)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &source{path: file, data: b, raw: m[1], version: []uint64{v}, desc: m[2]})
	}
	return srcs, nil
}

// readSource reads one source file: UTF-8, a byte order mark removed (and said: the tools
// that strip it do so silently, the others would send it to the database).
func readSource(fsys fs.FS, name string, d *Dir) ([]byte, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fileErrorf(name, "%v", unwrapPathErr(err))
	}
	if err := checkText(name, b); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(b, utf8BOM) {
		b = b[len(utf8BOM):]
		d.Warnings = append(d.Warnings, Warning{File: name, Line: 1, Message: "starts with a UTF-8 byte order mark: removed in the converted file"})
	}
	if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
		// A ConfigMap value with CR cannot be a readable YAML block; the SQL means the same.
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		d.Warnings = append(d.Warnings, Warning{File: name, Line: 1 + bytes.Count(b[:i], []byte("\n")), Message: "CRLF line endings: converted to LF (a line break inside a string literal changes with them)"})
	}
	return b, nil
}

// compareVersions compares dotted versions numerically, missing components as 0 (Flyway: 1 == 1.0).
func compareVersions(a, b []uint64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// orderNumbers is the order of tools that compare versions as numbers (golang-migrate, goose).
func orderNumbers(srcs []*source, name string) ([]*source, error) {
	sort.SliceStable(srcs, func(i, j int) bool { return numberLess(srcs[i], srcs[j]) })
	return srcs, rejectDuplicates(srcs, name, func(a, b *source) bool { return compareVersions(a.version, b.version) == 0 })
}

func numberLess(a, b *source) bool {
	if c := compareVersions(a.version, b.version); c != 0 {
		return c < 0
	}
	return a.path < b.path
}

// orderNames is the order of tools that apply files by name (dbmate, Liquibase includeAll).
func orderNames(srcs []*source, name string) ([]*source, error) {
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].path < srcs[j].path })
	return srcs, rejectDuplicates(srcs, name, func(a, b *source) bool { return a.raw == b.raw })
}

// rejectDuplicates fails on neighbours of the ordered sources that have the same version.
func rejectDuplicates(srcs []*source, name string, same func(a, b *source) bool) error {
	for i := 1; i < len(srcs); i++ {
		if a, b := srcs[i-1], srcs[i]; same(a, b) {
			return fileErrorf(b.path, "has the same version as %s: %s would refuse the directory too; renumber one of them", a.path, name)
		}
	}
	return nil
}

func sanitizeDesc(s string) string {
	s = strings.Trim(reNotKeyChar().ReplaceAllString(s, "_"), "_")
	if len(s) > maxDescLength {
		s = s[:maxDescLength]
	}
	return s
}

// txChoice is how a converted file runs: in atlas's default per-file transaction, or without
// one (`-- atlas:txmode none`). why is written into the file as a comment.
type txChoice struct {
	none bool
	why  string
	warn string // for the user, when the tool itself would have objected
}

// directives are the file's header lines. The reason never contains "atlas:", so atlas does
// not read it as a directive.
func (t txChoice) directives() []string {
	var out []string
	if t.none {
		out = append(out, "-- atlas:txmode none")
	}
	if t.why != "" { // names from the source (a changeset author "atlas") must not read as one
		out = append(out, "-- "+strings.ReplaceAll(t.why, "atlas:", "atlas :"))
	}
	return out
}

// splitStatements splits SQL as atlas does, for the tools that run a file's statements one by one.
func splitStatements(sql string) ([]*migrate.Stmt, error) {
	stmts, err := migrate.Stmts(sql)
	if err != nil {
		return nil, fmt.Errorf("splitting statements: %v", err)
	}
	return stmts, nil
}

// trackingTableWarnings finds lines that name another tool's tracking table: after the
// conversion atlas records versions in its own table and the old one is no longer written.
func trackingTableWarnings(file string, b []byte) []Warning {
	var out []Warning
	reTracking, trackedBy := trackingTables()
	for i, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); bytes.HasPrefix(t, []byte("--")) {
			continue
		}
		m := reTracking.FindSubmatch(line)
		if m == nil {
			continue
		}
		table := strings.ToLower(string(m[1]))
		out = append(out, Warning{File: file, Line: i + 1, Message: fmt.Sprintf(
			"references %s, %s tracking table: after the conversion atlas records applied versions in atlas_schema_revisions and %s is no longer written", table, trackedBy[table], table)})
	}
	return out
}

// sourceError names the source file, and the line when err has one.
func sourceError(s *source, err error) error {
	var le *lineErr
	if errors.As(err, &le) {
		return &pathError{file: fmt.Sprintf("%s:%d", s.path, le.line), msg: le.msg}
	}
	return fileErrorf(s.path, "%v", err)
}

// render writes statements as an atlas migration file and checks that atlas reads back the
// same statements. Statements holding the default delimiter inside them (goose
// StatementBegin/End blocks) switch the file to a custom delimiter.
func render(name string, stmts []*migrate.Stmt, directives []string) ([]byte, error) {
	want := make([]string, len(stmts))
	for i, s := range stmts {
		want[i] = normStmt(s.Text)
	}
	plain := renderWith(stmts, directives, "")
	if sameStmts(name, plain, want) {
		return plain, nil
	}
	custom := renderWith(stmts, directives, "-- end")
	if sameStmts(name, custom, want) {
		return custom, nil
	}
	return nil, errors.New("the statements cannot be written as an atlas migration file that splits the same way; convert this file by hand")
}

func renderWith(stmts []*migrate.Stmt, directives []string, delim string) []byte {
	var b strings.Builder
	if delim != "" {
		directives = append([]string{"-- atlas:delimiter " + delim}, directives...)
	}
	if len(directives) > 0 {
		b.WriteString(strings.Join(directives, "\n"))
		b.WriteString("\n\n")
	}
	if len(stmts) == 0 {
		b.WriteString("-- no statements\n")
	}
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range s.Comments {
			b.WriteString(strings.TrimRight(c, "\n"))
			b.WriteString("\n")
		}
		text := strings.TrimSpace(s.Text)
		b.WriteString(text)
		if delim != "" {
			b.WriteString("\n" + delim + "\n")
		} else {
			if !strings.HasSuffix(text, ";") {
				b.WriteString(";")
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

func normStmt(s string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";"))
}

func sameStmts(name string, content []byte, want []string) bool {
	got, err := migrate.NewLocalFile(name, content).StmtDecls()
	if err != nil || len(got) != len(want) {
		return false
	}
	for i := range got {
		if normStmt(got[i].Text) != want[i] {
			return false
		}
	}
	return true
}
