package migdir

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
)

// Other tools' directories are converted in memory: each up migration becomes one atlas file
// named <version>_<description>.sql holding the same statements (down sections dropped), and a
// fresh atlas.sum is computed. Atlas applies files in byte order of their names, while the other
// tools compare versions as numbers (golang-migrate, goose, dbmate) or as dotted numbers
// (Flyway: 1 < 1.1 < 2 < 10). Versions are therefore rewritten with zero padding and, for
// Flyway, the same number of components, so byte order equals the tool's order:
// Flyway 1, 1.1, 2, 10 become 01.0, 01.1, 02.0, 10.0. A directory whose versions already have
// one width (timestamps) keeps them unchanged.

var (
	reNumbered         = regexp.MustCompile(`^([0-9]+)_(.*)\.sql$`)
	reGolangUp         = regexp.MustCompile(`^([0-9]+)(?:_(.*))?\.up\.sql$`)
	reFlyway           = regexp.MustCompile(`^([VBR])(.*?)__(.*)\.sql$`)
	reFlywayVer        = regexp.MustCompile(`^[0-9]+(?:[._][0-9]+)*$`)
	reNotKeyChar       = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)
	reGooseNoTx        = regexp.MustCompile(`(?m)^--\s*\+goose\s+NO\s+TRANSACTION\s*$`)
	reDBMateNoTx       = regexp.MustCompile(`(?m)^--\s*migrate:up\b.*\btransaction:false\b`)
	reLiquibase        = regexp.MustCompile(`(?m)^--\s*liquibase\s+formatted\s+sql`)
	reDBMatePragmaOpts = regexp.MustCompile(`(?m)^--\s*migrate:(up|down)\b[^\n]*$`)
	reGooseUp          = regexp.MustCompile(`(?m)^--\s*\+goose\s+Up\b`)
	reDBMateUp         = regexp.MustCompile(`(?m)^--\s*migrate:up\b`)
	maxDescLength      = 200
)

// source is one migration file of another tool.
type source struct {
	path    string
	data    []byte
	version []uint64 // numeric components; nil for Flyway repeatables
	width   int      // longest component as written (keeps goose's 00001 padding)
	desc    string
	kind    byte // Flyway V, B or R; 'V' elsewhere
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
		return nil, emptyErrorFormat(format, d.Ignored)
	}
	if srcs, err = order(srcs, format); err != nil {
		return nil, err
	}
	versions := renderVersions(srcs)
	seen := map[string]string{}
	for i, s := range srcs {
		stmts, directives, err := statements(s, format)
		if err != nil {
			return nil, err
		}
		name := versions[i]
		if desc := sanitizeDesc(s.desc); desc != "" {
			name += "_" + desc
		}
		name += ".sql"
		if prev, ok := seen[name]; ok {
			return nil, fileErrorf(s.path, "converts to the same atlas file name %s as %s: rename one of them", name, prev)
		}
		seen[name] = s.path
		content, err := render(name, stmts, directives)
		if err != nil {
			return nil, fileErrorf(s.path, "%v", err)
		}
		d.Files = append(d.Files, File{Name: name, Data: content, Source: s.path, src: s.data})
	}
	return d, d.appendSum(d.sqlFiles())
}

func emptyErrorFormat(format string, ignored []string) error {
	want := map[string]string{
		FormatGolangMigrate: "<version>_<name>.up.sql",
		FormatGoose:         "<version>_<name>.sql",
		FormatDBMate:        "<version>_<name>.sql",
		FormatLiquibase:     "<number>_<name>.sql",
		FormatFlyway:        "V<version>__<name>.sql",
	}[format]
	err := emptyError(ignored)
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
		b, err := readSource(fsys, name)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &source{path: name, data: b, version: []uint64{v}, width: len(m[1]), desc: m[2], kind: 'V'})
	}
	return srcs, nil
}

func readSource(fsys fs.FS, name string) ([]byte, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fileErrorf(name, "%v", unwrapPathErr(err))
	}
	return b, checkUTF8(name, b)
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
		s := &source{path: p, desc: m[3], kind: m[1][0]}
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
				s.width = max(s.width, len(part))
			}
		}
		if s.data, err = readSource(fsys, p); err != nil {
			return err
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

// order sorts sources in the tool's apply order and rejects duplicate versions. For Flyway it
// applies the newest baseline (dropping versioned files it covers) and puts repeatables last.
func order(srcs []*source, format string) ([]*source, error) {
	sort.SliceStable(srcs, func(i, j int) bool {
		a, b := srcs[i], srcs[j]
		if a.kind == 'R' || b.kind == 'R' {
			if a.kind != b.kind {
				return b.kind == 'R'
			}
			return a.desc < b.desc
		}
		if c := compareVersions(a.version, b.version); c != 0 {
			return c < 0
		}
		return a.path < b.path
	})
	if format == FormatFlyway {
		baseline := -1
		for i, s := range srcs {
			if s.kind == 'B' {
				baseline = i
			}
		}
		if baseline >= 0 {
			bv := srcs[baseline].version
			kept := []*source{srcs[baseline]}
			for _, s := range srcs {
				if s.kind == 'R' || (s.kind == 'V' && compareVersions(s.version, bv) > 0) {
					kept = append(kept, s)
				}
			}
			srcs = kept
		}
	}
	for i := 1; i < len(srcs); i++ {
		a, b := srcs[i-1], srcs[i]
		if a.kind != 'R' && b.kind != 'R' && compareVersions(a.version, b.version) == 0 {
			return nil, fileErrorf(b.path, "has the same version as %s: %s would refuse the directory too; renumber one of them", a.path, format)
		}
	}
	return srcs, nil
}

// renderVersions gives every source an atlas version whose byte order is the apply order.
func renderVersions(srcs []*source) []string {
	comps, width, repeatables := 1, 1, 0
	for _, s := range srcs {
		if s.kind == 'R' {
			repeatables++
			continue
		}
		comps = max(comps, len(s.version))
		width = max(width, s.width)
	}
	var last []uint64
	if repeatables > 0 {
		// Repeatables run after every versioned file: they get the last version plus a counter.
		comps++
		width = max(width, len(strconv.Itoa(repeatables)))
	}
	out := make([]string, len(srcs))
	r := 0
	for i, s := range srcs {
		v := s.version
		if s.kind == 'R' {
			r++
			v = append(append([]uint64{}, last...), make([]uint64, comps-1-len(last))...)
			v = append(v, uint64(r))
		} else {
			last = v
		}
		parts := make([]string, comps)
		for j := range parts {
			var c uint64
			if j < len(v) {
				c = v[j]
			}
			parts[j] = fmt.Sprintf("%0*d", width, c)
		}
		out[i] = strings.Join(parts, ".")
	}
	return out
}

func sanitizeDesc(s string) string {
	s = strings.Trim(reNotKeyChar.ReplaceAllString(s, "_"), "_")
	if len(s) > maxDescLength {
		s = s[:maxDescLength]
	}
	return s
}

// statements extracts the up statements of one source file with the tool's own rules
// (ariga.io/atlas/sql/sqltool), plus atlas directives carrying the tool's file options.
func statements(s *source, format string) ([]*migrate.Stmt, []string, error) {
	lf := migrate.NewLocalFile(path.Base(s.path), s.data)
	var (
		stmts      []*migrate.Stmt
		directives []string
		err        error
	)
	switch format {
	case FormatGoose:
		if !reGooseUp.Match(s.data) {
			return nil, nil, fileErrorf(s.path, "no `-- +goose Up` section: not a goose SQL migration")
		}
		stmts, err = (&sqltool.GooseFile{LocalFile: lf}).StmtDecls()
		if reGooseNoTx.Match(s.data) {
			directives = append(directives, "-- atlas:txmode none")
		}
	case FormatDBMate:
		if !reDBMateUp.Match(s.data) {
			return nil, nil, fileErrorf(s.path, "no `-- migrate:up` section: not a dbmate migration")
		}
		// sqltool only knows the bare pragma; options such as transaction:false hide the section.
		bare := reDBMatePragmaOpts.ReplaceAll(s.data, []byte("-- migrate:$1"))
		stmts, err = (&sqltool.DBMateFile{LocalFile: migrate.NewLocalFile(lf.Name(), bare)}).StmtDecls()
		if reDBMateNoTx.Match(s.data) {
			directives = append(directives, "-- atlas:txmode none")
		}
	default:
		stmts, err = migrate.Stmts(string(s.data))
	}
	if err != nil {
		return nil, nil, fileErrorf(s.path, "splitting statements: %v", err)
	}
	// Tool pragmas that survive as comments mean nothing to atlas.
	for _, st := range stmts {
		kept := st.Comments[:0]
		for _, c := range st.Comments {
			if !reGooseNoTx.MatchString(strings.TrimSpace(c)) && !strings.HasPrefix(strings.TrimSpace(c), "-- +goose") && !strings.HasPrefix(strings.TrimSpace(c), "-- migrate:") {
				kept = append(kept, c)
			}
		}
		st.Comments = kept
	}
	return stmts, directives, nil
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
