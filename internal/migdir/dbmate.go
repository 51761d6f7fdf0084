package migdir

import (
	"fmt"
	"io/fs"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatDBMate is dbmate's directory: <version>_<name>.sql files with `-- migrate:up` and
// `-- migrate:down` sections, applied in file name order; versions are kept as written.
const FormatDBMate = "dbmate"

var (
	dbmate = &dbmateFormat{about{
		name: FormatDBMate, title: "dbmate", files: "<version>_<name>.sql",
		baselineHint: "`SELECT max(version) FROM schema_migrations`",
		tables:       []string{"schema_migrations"},
		asWritten:    true,
	}}
	reNumbered         = lazyRegexp(`^([0-9]+)_(.*)\.sql$`)
	reDBMateUp         = lazyRegexp(`(?m)^--\s*migrate:up\b`)
	reDBMateNoTx       = lazyRegexp(`(?m)^--\s*migrate:up\b.*\btransaction:false\b`)
	reDBMatePragmaOpts = lazyRegexp(`(?m)^--\s*migrate:(up|down)\b[^\n]*$`)
)

type dbmateFormat struct{ about }

// detectFile: a `-- migrate:up` line.
func (dbmateFormat) detectFile(b []byte) bool { return reDBMateUp().Match(b) }

func (dbmateFormat) detect(fs.FS, []string) bool { return false }

func (f *dbmateFormat) collect(fsys fs.FS, d *Dir) ([]*source, error) {
	return collectNumbered(fsys, d, f.name, reNumbered(), true)
}

func (f *dbmateFormat) order(srcs []*source) ([]*source, error) { return orderNames(srcs, f.name) }

func (dbmateFormat) version(s *source) string { return s.raw }

func (dbmateFormat) baseline(v string) string { return v }

// statements: the migrate:up section, in a transaction unless its line says transaction:false.
func (dbmateFormat) statements(s *source) ([]*migrate.Stmt, txChoice, error) {
	if !reDBMateUp().Match(s.data) {
		return nil, txChoice{}, fmt.Errorf("no `-- migrate:up` section: not a dbmate migration")
	}
	var up []string
	in := false
	for _, line := range strings.Split(string(s.data), "\n") {
		if m := reDBMatePragmaOpts().FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			if m[1] == "down" {
				break
			}
			in = true
			continue
		}
		if in {
			up = append(up, line)
		}
	}
	stmts, err := splitStatements(strings.Join(up, "\n"))
	if err != nil {
		return nil, txChoice{}, err
	}
	var tx txChoice
	if reDBMateNoTx().Match(s.data) {
		tx = txChoice{none: true, why: "dbmate: `transaction:false` on the migrate:up line runs this file outside a transaction"}
	}
	return stmts, tx, nil
}
