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
// a fresh atlas.sum is computed. naming.go says how versions are written.

var (
	reNumbered         = regexp.MustCompile(`^([0-9]+)_(.*)\.sql$`)
	reGolangUp         = regexp.MustCompile(`^([0-9]+)(?:_(.*))?\.up\.sql$`)
	reFlyway           = regexp.MustCompile(`^([VBR])(.*?)__(.*)\.sql$`)
	reFlywayVer        = regexp.MustCompile(`^[0-9]+(?:[._][0-9]+)*$`)
	reNotKeyChar       = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)
	reDBMateNoTx       = regexp.MustCompile(`(?m)^--\s*migrate:up\b.*\btransaction:false\b`)
	reLiquibase        = regexp.MustCompile(`(?mi)^--\s*liquibase\s+formatted\s+sql`)
	reDBMatePragmaOpts = regexp.MustCompile(`(?m)^--\s*migrate:(up|down)\b[^\n]*$`)
	reGooseUp          = regexp.MustCompile(`(?mi)^--\s*\+goose\s+Up\b`)
	reDBMateUp         = regexp.MustCompile(`(?m)^--\s*migrate:up\b`)
	maxDescLength      = 200
)

// source is one migration file of another tool.
type source struct {
	path    string
	data    []byte   // content, a UTF-8 byte order mark removed
	raw     string   // the version as written in the file name
	version []uint64 // numeric components; nil for Flyway repeatables
	desc    string
	kind    byte   // Flyway V, B or R; 'V' elsewhere
	conf    []byte // Flyway script configuration (<file>.conf), if any
	part    *liquibasePart
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
	for _, n := range names {
		if reGolangUp.MatchString(n) {
			return FormatGolangMigrate, nil
		}
	}
	flyway := false
	_ = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && reFlyway.MatchString(e.Name()) {
			flyway = true
			return fs.SkipAll
		}
		return nil
	})
	if flyway {
		return FormatFlyway, nil
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
		switch {
		case reGooseUp.Match(b):
			return FormatGoose, nil
		case reDBMateUp.Match(b):
			return FormatDBMate, nil
		case reLiquibase.Match(b):
			return FormatLiquibase, nil
		}
	}
	return FormatAtlas, nil
}

// convert reads another tool's directory into atlas format with a fresh atlas.sum.
func convert(fsys fs.FS, format string) (*Dir, error) {
	d := &Dir{Rehashed: true}
	srcs, err := collect(fsys, format, d)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, emptyErrorFormat(fsys, format, d.Ignored)
	}
	if srcs, err = order(srcs, format); err != nil {
		return nil, err
	}
	if format == FormatLiquibase {
		if srcs, err = splitRunOnChange(srcs); err != nil {
			return nil, err
		}
	}
	seen := map[string]string{}
	for _, s := range srcs {
		stmts, tx, err := statements(s, format)
		if err != nil {
			return nil, err
		}
		if tx.warn != "" {
			d.Warnings = append(d.Warnings, Warning{File: s.path, Message: tx.warn})
		}
		name := atlasVersion(s, format)
		// Versions kept as written sort as the source names only with the '_' after them.
		if desc := sanitizeDesc(s.desc); desc != "" || format == FormatDBMate || format == FormatLiquibase {
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
		if format == FormatFlyway {
			d.Warnings = append(d.Warnings, flywayPlaceholderWarnings(s.path, s.data)...)
		}
		d.Files = append(d.Files, File{Name: name, Data: content, Source: s.path, src: s.data, Rerun: s.kind == 'R' || (s.part != nil && s.part.rerun)})
	}
	return d, d.appendSum(d.sqlFiles())
}

func emptyErrorFormat(fsys fs.FS, format string, ignored []string) error {
	want := map[string]string{
		FormatGolangMigrate: "<version>_<name>.up.sql",
		FormatGoose:         "<version>_<name>.sql",
		FormatDBMate:        "<version>_<name>.sql",
		FormatLiquibase:     "<number>_<name>.sql",
		FormatFlyway:        "V<version>__<name>.sql",
	}[format]
	err := emptyError(ignored)
	if looks, _ := Detect(fsys); looks != format && looks != FormatAtlas {
		return &WrongFormatError{Err: fmt.Errorf("no %s migration files (%s) found", format, want), Looks: looks}
	}
	return fmt.Errorf("%s migration files (%s): %w", format, want, err)
}

// collect lists the up migrations of a directory, checking their content is UTF-8.
func collect(fsys fs.FS, format string, d *Dir) ([]*source, error) {
	if format == FormatFlyway {
		return collectFlyway(fsys, d)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the migration directory: %w", err)
	}
	re := reNumbered
	if format == FormatGolangMigrate {
		re = reGolangUp
	}
	var srcs []*source
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			d.Ignored = append(d.Ignored, name+"/")
			continue
		}
		m := re.FindStringSubmatch(name)
		if m == nil {
			if strings.HasSuffix(name, ".sql") && !strings.HasSuffix(name, ".down.sql") && format != FormatGolangMigrate {
				return nil, fileErrorf(name, "not a %s migration file name: expected <version>_<name>.sql with a numeric version", format)
			}
			d.Ignored = append(d.Ignored, name)
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fileErrorf(name, "version %s is out of range", m[1])
		}
		b, err := readSource(fsys, name, d)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &source{path: name, data: b, raw: m[1], version: []uint64{v}, desc: m[2], kind: 'V'})
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

// collectFlyway walks the directory (Flyway reads subfolders too, hidden ones excepted) for
// V (versioned), B (baseline) and R (repeatable) SQL migrations.
func collectFlyway(fsys fs.FS, d *Dir) ([]*source, error) {
	var srcs []*source
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != "." && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		m := reFlyway.FindStringSubmatch(e.Name())
		if m == nil {
			d.Ignored = append(d.Ignored, p)
			return nil
		}
		s := &source{path: p, raw: m[2], desc: m[3], kind: m[1][0]}
		if s.kind == 'R' {
			if m[2] != "" {
				return fileErrorf(p, "a repeatable migration has no version: name it R__<name>.sql")
			}
		} else {
			if !reFlywayVer.MatchString(m[2]) {
				return fileErrorf(p, "version %q is not a Flyway version (numbers separated by '.' or '_')", m[2])
			}
			for _, part := range strings.FieldsFunc(m[2], func(r rune) bool { return r == '.' || r == '_' }) {
				n, err := strconv.ParseUint(part, 10, 64)
				if err != nil {
					return fileErrorf(p, "version %s is out of range", m[2])
				}
				s.version = append(s.version, n)
			}
		}
		if s.data, err = readSource(fsys, p, d); err != nil {
			return err
		}
		if s.conf, err = fs.ReadFile(fsys, p+".conf"); err != nil {
			s.conf = nil
		}
		srcs = append(srcs, s)
		return nil
	})
	if err != nil {
		var pe *pathError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the migration directory: %w", err)
	}
	// Script configurations (V1__x.sql.conf) are read with their migration, not left out.
	used := map[string]bool{}
	for _, s := range srcs {
		if s.conf != nil {
			used[s.path+".conf"] = true
		}
	}
	kept := d.Ignored[:0]
	for _, p := range d.Ignored {
		if !used[p] {
			kept = append(kept, p)
		}
	}
	d.Ignored = kept
	return srcs, nil
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

// order sorts sources in the tool's apply order and rejects duplicate versions: numbers for
// golang-migrate and goose, dotted numbers then repeatables by description for Flyway, file
// names for dbmate and Liquibase. For Flyway it applies the newest baseline (dropping the
// versioned files it covers).
func order(srcs []*source, format string) ([]*source, error) {
	sort.SliceStable(srcs, func(i, j int) bool { return sourceLess(srcs[i], srcs[j], format) })
	if format == FormatFlyway {
		srcs = applyFlywayBaseline(srcs)
	}
	for i := 1; i < len(srcs); i++ {
		a, b := srcs[i-1], srcs[i]
		same := false
		switch {
		case a.kind == 'R' || b.kind == 'R':
			same = a.kind == b.kind && flywayDescription(a.desc) == flywayDescription(b.desc)
		case format == FormatDBMate || format == FormatLiquibase:
			same = a.raw == b.raw
		default:
			same = compareVersions(a.version, b.version) == 0
		}
		if same {
			return nil, fileErrorf(b.path, "has the same version as %s: %s would refuse the directory too; renumber one of them", a.path, format)
		}
	}
	return srcs, nil
}

func sourceLess(a, b *source, format string) bool {
	switch {
	case a.kind == 'R' || b.kind == 'R':
		if a.kind != b.kind {
			return b.kind == 'R'
		}
		return flywayDescription(a.desc) < flywayDescription(b.desc)
	case format == FormatDBMate || format == FormatLiquibase:
		return a.path < b.path
	}
	if c := compareVersions(a.version, b.version); c != 0 {
		return c < 0
	}
	return a.path < b.path
}

// applyFlywayBaseline keeps the newest B baseline and what comes after it, as Flyway does on
// a new database.
func applyFlywayBaseline(srcs []*source) []*source {
	baseline := -1
	for i, s := range srcs {
		if s.kind == 'B' {
			baseline = i
		}
	}
	if baseline < 0 {
		return srcs
	}
	bv := srcs[baseline].version
	kept := []*source{srcs[baseline]}
	for _, s := range srcs {
		if s.kind == 'R' || (s.kind == 'V' && compareVersions(s.version, bv) > 0) {
			kept = append(kept, s)
		}
	}
	return kept
}

func sanitizeDesc(s string) string {
	s = strings.Trim(reNotKeyChar.ReplaceAllString(s, "_"), "_")
	if len(s) > maxDescLength {
		s = s[:maxDescLength]
	}
	return s
}

// statements extracts the statements the tool would run of one source file, by the tool's own
// rules, and the atlas file directives that make atlas run them the way the tool would
// (transaction or not, with a comment saying why).
func statements(s *source, format string) ([]*migrate.Stmt, txChoice, error) {
	var (
		stmts []*migrate.Stmt
		tx    txChoice
		err   error
	)
	switch format {
	case FormatGoose:
		stmts, tx, err = gooseStatements(s)
	case FormatDBMate:
		stmts, tx, err = dbmateStatements(s)
	case FormatLiquibase:
		stmts, tx, err = liquibaseStatements(s)
	case FormatGolangMigrate:
		stmts, tx, err = golangMigrateStatements(s)
	default:
		stmts, tx, err = flywayStatements(s)
	}
	if err != nil {
		return nil, tx, sourceError(s, err)
	}
	return stmts, tx, nil
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
