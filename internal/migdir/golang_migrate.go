package migdir

import (
	"io/fs"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatGolangMigrate is golang-migrate's directory: <version>_<name>.up.sql and .down.sql
// files; versions are numbers (the converted names write them so that byte order is numeric
// order: 1 -> a1, 10 -> b10, naming.go).
const FormatGolangMigrate = "golang-migrate"

var (
	golangMigrate = &golangMigrateFormat{about{
		name: FormatGolangMigrate, title: "golang-migrate", files: "<version>_<name>.up.sql",
		baselineHint: "`SELECT version FROM schema_migrations`",
		tables:       []string{"schema_migrations"},
	}}
	reGolangUp = lazyRegexp(`^([0-9]+)(?:_(.*))?\.up\.sql$`)
	reTxBegin  = lazyRegexp(`(?i)^(?:BEGIN(?:\s+(?:TRANSACTION|WORK))?|START\s+TRANSACTION)\s*;?$`)
	reTxCommit = lazyRegexp(`(?i)^(?:COMMIT|END)(?:\s+(?:TRANSACTION|WORK))?\s*;?$`)
)

type golangMigrateFormat struct{ about }

// detect: an up migration at the top level.
func (golangMigrateFormat) detect(_ fs.FS, names []string) bool { return anyName(names, reGolangUp()) }

func (golangMigrateFormat) detectFile([]byte) bool { return false }

// collect: the up files; down files and other names are left out.
func (f *golangMigrateFormat) collect(fsys fs.FS, d *Dir) ([]*source, error) {
	return collectNumbered(fsys, d, f.name, reGolangUp(), false)
}

func (f *golangMigrateFormat) order(srcs []*source) ([]*source, error) {
	return orderNumbers(srcs, f.name)
}

func (golangMigrateFormat) version(s *source) string { return encodeNumber(s.version[0]) }

func (golangMigrateFormat) baseline(v string) string { return numberBaseline(v) }

// numberBaseline is the atlas version of a tool's numeric version.
func numberBaseline(v string) string {
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return encodeNumber(n)
	}
	return v
}

// statements: golang-migrate runs a file as it is, without a transaction of its own; a file
// that wraps itself in BEGIN ... COMMIT gets atlas's transaction instead.
func (golangMigrateFormat) statements(s *source) ([]*migrate.Stmt, txChoice, error) {
	stmts, err := splitStatements(string(s.data))
	if err != nil {
		return nil, txChoice{}, err
	}
	if n := len(stmts); n >= 2 && reTxBegin().MatchString(strings.TrimSpace(stmts[0].Text)) && reTxCommit().MatchString(strings.TrimSpace(stmts[n-1].Text)) {
		inner := stmts[1 : n-1]
		wrapped := true
		for _, st := range inner {
			t := strings.TrimSpace(st.Text)
			if reTxBegin().MatchString(t) || reTxCommit().MatchString(t) {
				wrapped = false
			}
		}
		if wrapped {
			if len(stmts[0].Comments) > 0 && len(inner) > 0 {
				inner[0].Comments = append(append([]string{}, stmts[0].Comments...), inner[0].Comments...)
			}
			return inner, txChoice{why: "golang-migrate: the file's own BEGIN ... COMMIT became the transaction this file runs in"}, nil
		}
	}
	return stmts, txChoice{none: true, why: "golang-migrate runs a file without a transaction: each statement commits on its own"}, nil
}
