package migdir_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// Files that the source tool runs again when they are edited (Flyway repeatables, Liquibase
// runOnChange changesets) carry their checksum in their converted version: an edit is a new
// version, pending for atlas's executor, in the place the tool would run it. The rerun ledger
// committed beside the migrations keeps every earlier version as a placeholder file and
// numbers the change marker that sorts last. These tests apply successive commits of a
// directory (the ledger recorded at each, as init and configmap record it) to a real
// PostgreSQL with atlas's executor, as the operator does with the AtlasMigration that init
// writes (execOrder: non-linear), and record what the revisions table and `status --dir`
// (atlas.PendingVersions) say at each step. rerun_cli_test.go runs the same with the atlas
// CLI and the operator's rule; e2e/rerun_test.go with the real operator.

// TestRerunPostgres applies edited repeatables and runOnChange changesets to a real PostgreSQL.
func TestRerunPostgres(t *testing.T) {
	srv, err := databases.StartPostgres(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	for _, c := range rerunCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv) })
	}
}

var rerunCases = []struct {
	name string
	run  func(*testing.T, *databases.Server)
}{
	{"flyway repeatable edited with a new versioned file it needs", rerunRepeatableGrowth},
	{"flyway repeatable edited twice, and reverted", rerunRepeatableTwice},
	{"flyway unchanged repeatable does not run again", rerunRepeatableUnchanged},
	{"flyway outOfOrder", rerunFlywayOutOfOrder},
	{"goose without allowMissing", rerunGooseMissing},
	{"liquibase runOnChange", rerunLiquibaseRunOnChange},
	{"liquibase includeAll layouts with the ledger", rerunLiquibaseLayouts},
	{"golang-migrate dirty flag", rerunGolangMigrateDirty},
}

var nonLinear = migrate.WithExecOrder(migrate.ExecOrderNonLinear)

// pending is what atlas's executor would apply next, or its error.
func (tg *target) pending(t *testing.T, dir migrate.Dir, opts ...migrate.ExecutorOption) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	conn, err := tg.db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	drv, err := tg.open(conn)
	require.NoError(t, err)
	ex, err := migrate.NewExecutor(drv, dir, tg.revs, opts...)
	require.NoError(t, err)
	files, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs, err
}

// repo is a source migration directory that changes commit by commit, its rerun ledger
// recorded at each commit as init and configmap record it.
type repo struct {
	dir, format string
}

func newRepo(t *testing.T, format string) *repo { return &repo{dir: t.TempDir(), format: format} }

// commit replaces the migration files (the ledger stays), converts, records the ledger.
func (r *repo) commit(t *testing.T, files map[string]string) *migdir.Dir {
	t.Helper()
	entries, err := os.ReadDir(r.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != migdir.LedgerFile {
			require.NoError(t, os.RemoveAll(filepath.Join(r.dir, e.Name())))
		}
	}
	writeFiles(t, r.dir, files)
	d := read(t, r.dir, r.format)
	if d.Ledger != nil {
		require.NoError(t, os.WriteFile(filepath.Join(r.dir, migdir.LedgerFile), d.Ledger, 0o644))
	}
	again := read(t, r.dir, r.format)
	require.NoError(t, again.CheckLedger(), "recorded")
	require.Equal(t, d.Versions(), again.Versions(), "the names do not change once recorded")
	return d
}

// readTree reads the migration files of a testdata directory (not its ledger).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		if e.Name() == migdir.LedgerFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func repeatableVersion(t *testing.T, d *migdir.Dir, source string) string {
	t.Helper()
	for _, f := range d.Files {
		if f.Source == source {
			require.True(t, f.Rerun, f.Name)
			return migrate.NewLocalFile(f.Name, nil).Version()
		}
	}
	t.Fatalf("no converted file from %s", source)
	return ""
}

// kept lists the versions that come from the ledger: placeholders of earlier versions and the
// change marker (the last one).
func kept(d *migdir.Dir) []string {
	var out []string
	for _, f := range d.Files {
		if f.Source == migdir.LedgerFile {
			out = append(out, migrate.NewLocalFile(f.Name, nil).Version())
		}
	}
	return out
}

// settled checks what the operator's next reconcile finds: nothing pending, and a revision row
// for every file and a file for every row (more rows than files reads as a database ahead of
// the directory: migrate down, refused, Degraded).
func (tg *target) settled(t *testing.T, d *migdir.Dir) {
	t.Helper()
	p, err := tg.pending(t, writeConverted(t, d))
	require.NoError(t, err, "linear, as atlas migrate status reads it")
	require.Empty(t, p)
	require.Equal(t, d.Versions(), tg.revs.versions())
}

// rerunRepeatableGrowth is the Marquez step (testdata/repeatable-growth/README.md): V74 adds a
// column and the repeatable, edited in the same commit, selects it.
func rerunRepeatableGrowth(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "growth")
	growth := filepath.Join("testdata", "repeatable-growth")
	r := newRepo(t, migdir.FormatFlyway)
	before := r.commit(t, readTree(t, filepath.Join(growth, "before")))
	after := r.commit(t, readTree(t, filepath.Join(growth, "after")))
	// The committed testdata ledgers are what these commits record.
	for _, c := range []struct {
		d   *migdir.Dir
		dir string
	}{{before, "before"}, {after, "after"}} {
		want, err := os.ReadFile(filepath.Join(growth, c.dir, migdir.LedgerFile))
		require.NoError(t, err)
		require.Equal(t, string(want), string(c.d.Ledger))
	}
	require.True(t, before.HasRepeatables())
	const rs = "R__Jobs_view_and_rewrite_function.sql"
	rBefore, rAfter := repeatableVersion(t, before, rs), repeatableVersion(t, after, rs)
	require.NotEqual(t, rBefore, rAfter, "an edit is a new version")
	mBefore, mAfter := before.LatestVersion(), after.LatestVersion()
	require.Equal(t, []string{mBefore}, kept(before), "the change marker")
	require.Equal(t, []string{rBefore, mBefore, mAfter}, kept(after), "placeholders of the first version and marker, the new marker")

	require.Equal(t, []string{"a1", "a2", "b73", rBefore, mBefore}, tg.apply(t, writeConverted(t, before), nonLinear))
	tg.settled(t, before)

	local := writeConverted(t, after)
	// The default (linear) order refuses b74 and the new repeatable version (below the applied
	// marker) but lists the new marker as pending: that is what the operator's atlas migrate
	// status reports, and why the operator applies the change.
	_, err := tg.pending(t, local)
	var nl *migrate.HistoryNonLinearError
	require.ErrorAs(t, err, &nl)
	require.Equal(t, []string{mAfter}, versionsOf(nl.Pending))
	require.ElementsMatch(t, []string{"b74", rAfter}, versionsOf(nl.OutOfOrder))
	// Non-linear, as init writes it: V74 first, then the edited repeatable, as Flyway runs them.
	require.Equal(t, []string{"b74", rAfter, mAfter}, tg.apply(t, local, nonLinear))
	require.Equal(t, []string{"current_run_uuid"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'"))
	// The trigger function of the edited file runs too: an insert through the view sets the column.
	tg.exec(t, "INSERT INTO namespaces VALUES ('00000000-0000-0000-0000-000000000001', 'ns')")
	tg.exec(t, "INSERT INTO jobs (uuid, namespace_uuid, name) VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'j')")
	tg.exec(t, "INSERT INTO runs VALUES ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000a1', 'NEW')")
	tg.exec(t, "INSERT INTO jobs_view (uuid, namespace_uuid, name, current_run_uuid) VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'j', '00000000-0000-0000-0000-0000000000b1')")
	require.Equal(t, []string{"00000000-0000-0000-0000-0000000000b1"}, tg.query(t, "SELECT current_run_uuid::text FROM jobs"))

	// The revisions table keeps the rows of the repeatable's first version and of the first
	// marker, and their placeholder files keep them matched: one row per file.
	tg.settled(t, after)
	// status --dir knows only the operator's lastAppliedVersion (the marker it applied last):
	// PENDING lists the new marker, not b74 or the new repeatable version, which sort below it
	// (stderr says the list is partial; docs/init.md).
	require.Equal(t, []string{mAfter}, atlas.PendingVersions(after.Versions(), mBefore))

	// A new database gets the directory at once: the placeholders are recorded and run nothing.
	fresh := newTarget(t, srv, "growthfresh")
	require.Equal(t, after.Versions(), fresh.apply(t, writeConverted(t, after)), "linear order suffices on a new database")
	fresh.settled(t, after)
	for _, rev := range fresh.revs.revs {
		if rev.Version == rBefore || rev.Version == mBefore || rev.Version == mAfter {
			require.Zero(t, rev.Total, "%s: no statements", rev.Version)
		}
	}
	require.Equal(t, []string{"current_run_uuid"}, fresh.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'"))
}

func versionsOf(fs []migrate.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Version())
	}
	return out
}

func (tg *target) exec(t *testing.T, q string) {
	t.Helper()
	_, err := tg.db.Exec(q)
	require.NoError(t, err, q)
}

// rerunRepeatableTwice edits a repeatable twice, then reverts it to its first content.
func rerunRepeatableTwice(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "twice")
	r := newRepo(t, migdir.FormatFlyway)
	state := func(cols string) map[string]string {
		return map[string]string{
			"V1__t.sql": "CREATE TABLE t (a int, b int, c int);\n",
			"R__v.sql":  fmt.Sprintf("DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT %s FROM t;\n", cols),
		}
	}
	cols := func() string {
		return strings.Join(tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'v' ORDER BY ordinal_position"), ",")
	}
	d1 := r.commit(t, state("a"))
	v1, m1 := repeatableVersion(t, d1, "R__v.sql"), d1.LatestVersion()
	require.Equal(t, []string{"a1", v1, m1}, tg.apply(t, writeConverted(t, d1), nonLinear))
	tg.settled(t, d1)
	d2 := r.commit(t, state("a, b"))
	v2, m2 := repeatableVersion(t, d2, "R__v.sql"), d2.LatestVersion()
	require.Equal(t, []string{v2, m2}, tg.apply(t, writeConverted(t, d2), nonLinear))
	require.Equal(t, "a,b", cols())
	tg.settled(t, d2)
	d3 := r.commit(t, state("a, b, c"))
	v3, m3 := repeatableVersion(t, d3, "R__v.sql"), d3.LatestVersion()
	require.Equal(t, []string{v3, m3}, tg.apply(t, writeConverted(t, d3), nonLinear))
	require.Equal(t, "a,b,c", cols())
	tg.settled(t, d3)
	require.Equal(t, []string{m1, m2, m3}, kept(d3)[2:], "the earlier change markers, then the new one")
	require.ElementsMatch(t, []string{v1, v2}, kept(d3)[:2], "every earlier version keeps a placeholder")

	// Reverted to the first content: Flyway runs it again (its checksum differs from the last
	// one applied), and so does atlas: the ledger gives it a version of its own (the first
	// one's, then the entry's number), in the same place.
	d4 := r.commit(t, state("a"))
	v4 := repeatableVersion(t, d4, "R__v.sql")
	require.True(t, strings.HasPrefix(v4, v1+"r"), v4)
	require.Equal(t, []string{v4, d4.LatestVersion()}, tg.apply(t, writeConverted(t, d4), nonLinear))
	require.Equal(t, "a", cols())
	tg.settled(t, d4)
}

// rerunRepeatableUnchanged edits one of two repeatables: only that one runs again. A line-ending
// change alone keeps Flyway's checksum, so it is not a new version either.
func rerunRepeatableUnchanged(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "unchanged")
	r := newRepo(t, migdir.FormatFlyway)
	files := map[string]string{
		"V1__log.sql":   "CREATE TABLE log (what text);\n",
		"R__a_view.sql": "INSERT INTO log VALUES ('a');\n",
		"R__b_view.sql": "INSERT INTO log VALUES ('b');\n",
	}
	d1 := r.commit(t, files)
	require.Len(t, tg.apply(t, writeConverted(t, d1), nonLinear), 4)
	files["R__a_view.sql"] = "INSERT INTO log VALUES ('a');\r\n"
	d2 := r.commit(t, files)
	require.Equal(t, d1.Versions(), d2.Versions(), "line endings alone: no new version, no new marker")
	files["R__b_view.sql"] = "INSERT INTO log VALUES ('b2');\n"
	d3 := r.commit(t, files)
	require.Equal(t, repeatableVersion(t, d1, "R__a_view.sql"), repeatableVersion(t, d3, "R__a_view.sql"))
	require.Equal(t, []string{repeatableVersion(t, d3, "R__b_view.sql"), d3.LatestVersion()}, tg.apply(t, writeConverted(t, d3), nonLinear))
	require.Equal(t, []string{"a", "b", "b2"}, tg.query(t, "SELECT what FROM log ORDER BY what"))
	tg.settled(t, d3)

	// A database migrated from a directory converted without a ledger (here: repeatables named
	// without a checksum, zhex_desc.sql, by an earlier kubectl-atlas) has rows the directory
	// holds no file for. Listing those versions in the ledger, as docs/init.md says, gives them
	// placeholders: every row has a file again.
	up := newRepo(t, migdir.FormatFlyway)
	require.NoError(t, os.WriteFile(filepath.Join(up.dir, migdir.LedgerFile), []byte("zgbcahggjgfhh_a_view.sql 00000000 R__a_view.sql\nzgccahggjgfhh_b_view.sql 00000000 R__b_view.sql\n"), 0o644))
	du := up.commit(t, files)
	require.Subset(t, du.Versions(), []string{"zgbcahggjgfhh", "zgccahggjgfhh"})
}

// rerunFlywayOutOfOrder: Flyway (outOfOrder=false, its default) refuses a versioned file below
// the newest applied one, and so does atlas's default linear order; a directory with
// repeatables needs non-linear order, which applies it, as Flyway with outOfOrder=true.
func rerunFlywayOutOfOrder(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "outoforder")
	r := newRepo(t, migdir.FormatFlyway)
	files := map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n", "V3__c.sql": "CREATE TABLE c (id int);\n"}
	tg.apply(t, writeConverted(t, r.commit(t, files)))
	files["V2__b.sql"] = "CREATE TABLE b (id int);\n"
	d := r.commit(t, files)
	require.False(t, d.HasRepeatables())
	require.Nil(t, d.Ledger, "no repeatables, no ledger")
	_, err := tg.pending(t, writeConverted(t, d))
	var nl *migrate.HistoryNonLinearError
	require.ErrorAs(t, err, &nl)
	require.Equal(t, "a2", nl.OutOfOrder[0].Version())

	files["R__v.sql"] = "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n"
	d = r.commit(t, files)
	require.True(t, d.HasRepeatables())
	require.Equal(t, []string{"a2", repeatableVersion(t, d, "R__v.sql"), d.LatestVersion()}, tg.apply(t, writeConverted(t, d), nonLinear))
	tg.settled(t, d)

	// A versioned file added alone after the repeatable ran sorts below it: the new change
	// marker is what makes it pending for atlas migrate status, so the operator applies it.
	files["V4__d.sql"] = "CREATE TABLE d (id int);\n"
	d = r.commit(t, files)
	_, err = tg.pending(t, writeConverted(t, d))
	require.ErrorAs(t, err, &nl)
	require.Equal(t, []string{d.LatestVersion()}, versionsOf(nl.Pending))
	require.Equal(t, []string{"a4", d.LatestVersion()}, tg.apply(t, writeConverted(t, d), nonLinear))
	tg.settled(t, d)
}

// rerunLiquibaseRunOnChange: a runOnChange changeset runs again, in its place in the changelog,
// when it is edited (not when only whitespace changes); the other changesets run once.
func rerunLiquibaseRunOnChange(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "roc")
	r := newRepo(t, migdir.FormatLiquibase)
	view := func(cols string) string {
		return "--changeset bob:3 runOnChange:true\nCREATE OR REPLACE VIEW user_names AS SELECT " + cols + " FROM users;\n--rollback DROP VIEW user_names;\n"
	}
	files := map[string]string{
		"001_init.sql":  "--liquibase formatted sql\n--changeset alice:1\nCREATE TABLE users (id int PRIMARY KEY, name text);\n--changeset alice:2\nCREATE TABLE log (what text);\n" + view("id, name"),
		"002_more.sql":  "--liquibase formatted sql\n--changeset carol:4\nINSERT INTO log VALUES ('002');\n--changeset carol:5 runOnChange:true\nINSERT INTO log VALUES ('grant');\n",
		"003_later.sql": "--liquibase formatted sql\n--changeset dave:6\nALTER TABLE users ADD COLUMN email text;\n",
	}
	d1 := r.commit(t, files)
	require.True(t, d1.HasRepeatables())
	v1 := tg.apply(t, writeConverted(t, d1))
	require.Len(t, v1, 6)
	require.Equal(t, "001", v1[0])
	require.True(t, strings.HasPrefix(v1[1], "001a1-"), v1[1])
	require.Equal(t, "002", v1[2])
	require.True(t, strings.HasPrefix(v1[3], "002a1-"), v1[3])
	require.Equal(t, d1.LatestVersion(), v1[5], "the change marker")
	tg.settled(t, d1)

	// The view now selects the column 003 added, and 004 is new: the edited changeset runs
	// before 004, where Liquibase runs it (its place in the changelog).
	files["001_init.sql"] = strings.Replace(files["001_init.sql"], view("id, name"), view("id, name, email"), 1)
	files["002_more.sql"] = strings.Replace(files["002_more.sql"], "INSERT INTO log VALUES ('grant');", "INSERT  INTO log\n  VALUES ('grant');", 1)
	files["004_last.sql"] = "--liquibase formatted sql\n--changeset erin:7\nINSERT INTO log VALUES ('004');\n"
	d2 := r.commit(t, files)
	applied := tg.apply(t, writeConverted(t, d2), nonLinear)
	require.Len(t, applied, 3)
	require.True(t, strings.HasPrefix(applied[0], "001a1-") && applied[0] != v1[1], applied[0])
	require.Equal(t, "004", applied[1])
	require.Equal(t, d2.LatestVersion(), applied[2])
	require.Equal(t, []string{"email"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'user_names' AND column_name = 'email'"))
	require.Equal(t, []string{"002", "004", "grant"}, tg.query(t, "SELECT what FROM log ORDER BY what"), "a whitespace-only edit does not run it again")
	tg.settled(t, d2)
}

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

// rerunGolangMigrateDirty: golang-migrate marks the version dirty when a file fails and refuses
// to go on until `migrate force`. Atlas records the file as partially applied (the statements
// that ran, and the error) and, once the failing statement is fixed, resumes at it without
// running the earlier ones again; editing a statement that already ran is refused.
func rerunGolangMigrateDirty(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "dirty")
	files := map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nINSERT INTO missing VALUES (1);\nINSERT INTO a VALUES (3);\n",
	}
	local := writeConverted(t, read(t, writeDir(t, files), migdir.FormatGolangMigrate))
	ctx := context.Background()
	conn, err := tg.db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	drv, err := tg.open(conn)
	require.NoError(t, err)
	ex, err := migrate.NewExecutor(drv, local, tg.revs)
	require.NoError(t, err)
	files1, err := ex.Pending(ctx)
	require.NoError(t, err)
	require.Error(t, ex.Execute(ctx, files1[0]))
	rev, err := tg.revs.ReadRevision(ctx, "a1")
	require.NoError(t, err)
	require.Equal(t, 2, rev.Applied)
	require.Equal(t, 4, rev.Total)
	require.Contains(t, rev.Error, "missing")

	// Editing a statement that already ran is refused, as golang-migrate's dirty flag would stop.
	files["1_a.up.sql"] = "CREATE TABLE a (id bigint);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\nINSERT INTO a VALUES (3);\n"
	edited := writeConverted(t, read(t, writeDir(t, files), migdir.FormatGolangMigrate))
	ex, err = migrate.NewExecutor(drv, edited, tg.revs)
	require.NoError(t, err)
	var hc migrate.HistoryChangedError
	require.ErrorAs(t, ex.ExecuteN(ctx, 0), &hc)

	// The failing statement fixed: atlas resumes at it.
	files["1_a.up.sql"] = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\nINSERT INTO a VALUES (3);\n"
	fixed := writeConverted(t, read(t, writeDir(t, files), migdir.FormatGolangMigrate))
	ex, err = migrate.NewExecutor(drv, fixed, tg.revs)
	require.NoError(t, err)
	require.NoError(t, ex.ExecuteN(ctx, 0))
	require.Equal(t, []string{"1", "2", "3"}, tg.query(t, "SELECT id::text FROM a ORDER BY id"))
}

// rerunGooseMissing: goose refuses a file below the newest applied one unless allowMissing is
// set; atlas's default linear order refuses it too (allowMissing is not carried).
func rerunGooseMissing(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "goosemissing")
	files := map[string]string{"1_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n", "3_c.sql": "-- +goose Up\nCREATE TABLE c (id int);\n"}
	require.Equal(t, []string{"a1", "a3"}, tg.apply(t, writeConverted(t, read(t, writeDir(t, files), migdir.FormatGoose))))
	files["2_b.sql"] = "-- +goose Up\nCREATE TABLE b (id int);\n"
	_, err := tg.pending(t, writeConverted(t, read(t, writeDir(t, files), migdir.FormatGoose)))
	var nl *migrate.HistoryNonLinearError
	require.ErrorAs(t, err, &nl)
	require.Equal(t, "a2", nl.OutOfOrder[0].Version())
}
