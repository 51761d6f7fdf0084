package migdir_test

import (
	"context"
	"errors"
	"fmt"
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
// version, pending for atlas's executor, in the place the tool would run it. These tests apply
// successive states of a directory to a real PostgreSQL with atlas's executor, as the operator
// does with the AtlasMigration that init writes (execOrder: non-linear), and record what the
// revisions table and `status --dir` (atlas.PendingVersions) say at each step.

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

// flywayState writes a Flyway directory and converts it.
func flywayState(t *testing.T, files map[string]string) *migdir.Dir {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return read(t, dir, migdir.FormatFlyway)
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

// rerunRepeatableGrowth is the Marquez step (testdata/repeatable-growth/README.md): V74 adds a
// column and the repeatable, edited in the same commit, selects it.
func rerunRepeatableGrowth(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "growth")
	before := read(t, filepath.Join("testdata", "repeatable-growth", "before"), migdir.FormatFlyway)
	after := read(t, filepath.Join("testdata", "repeatable-growth", "after"), migdir.FormatFlyway)
	require.True(t, before.HasRepeatables())
	const r = "R__Jobs_view_and_rewrite_function.sql"
	rBefore, rAfter := repeatableVersion(t, before, r), repeatableVersion(t, after, r)
	require.NotEqual(t, rBefore, rAfter, "an edit is a new version")

	require.Equal(t, []string{"a1", "a2", "b73", rBefore}, tg.apply(t, writeConverted(t, before), nonLinear))
	require.Equal(t, rBefore, before.LatestVersion(), "the operator's lastAppliedVersion")

	local := writeConverted(t, after)
	// The default (linear) order refuses: b74 sorts below the applied repeatable.
	_, err := tg.pending(t, local)
	var nl *migrate.HistoryNonLinearError
	require.ErrorAs(t, err, &nl)
	// Non-linear, as init writes it: V74 first, then the edited repeatable, as Flyway runs them.
	p, err := tg.pending(t, local, nonLinear)
	require.NoError(t, err)
	require.Equal(t, []string{"b74", rAfter}, p)
	require.Equal(t, []string{"b74", rAfter}, tg.apply(t, local, nonLinear))
	require.Equal(t, []string{"current_run_uuid"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'"))
	// The trigger function of the edited file runs too: an insert through the view sets the column.
	tg.exec(t, "INSERT INTO namespaces VALUES ('00000000-0000-0000-0000-000000000001', 'ns')")
	tg.exec(t, "INSERT INTO jobs (uuid, namespace_uuid, name) VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'j')")
	tg.exec(t, "INSERT INTO runs VALUES ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000a1', 'NEW')")
	tg.exec(t, "INSERT INTO jobs_view (uuid, namespace_uuid, name, current_run_uuid) VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'j', '00000000-0000-0000-0000-0000000000b1')")
	require.Equal(t, []string{"00000000-0000-0000-0000-0000000000b1"}, tg.query(t, "SELECT current_run_uuid::text FROM jobs"))

	// The revisions table keeps the row of the repeatable's first version (its file is gone
	// from the directory; atlas ignores revisions without a file) beside the new ones.
	require.ElementsMatch(t, []string{"a1", "a2", "b73", "b74", rBefore, rAfter}, tg.revs.versions())
	p, err = tg.pending(t, local, nonLinear)
	require.NoError(t, err)
	require.Empty(t, p)
	// status --dir knows only the operator's lastAppliedVersion (the newest version of the
	// directory it last applied, here the repeatable's first version). In a non-linear
	// directory files below it may be pending, and status cannot tell which: its PENDING list
	// leaves b74 out (it says so on stderr; docs/init.md).
	require.NotContains(t, atlas.PendingVersions(after.Versions(), rBefore), "b74")
}

func (tg *target) exec(t *testing.T, q string) {
	t.Helper()
	_, err := tg.db.Exec(q)
	require.NoError(t, err, q)
}

// rerunRepeatableTwice edits a repeatable twice, then reverts it to its first content.
func rerunRepeatableTwice(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "twice")
	base := map[string]string{"V1__t.sql": "CREATE TABLE t (a int, b int, c int);\n"}
	state := func(cols string) map[string]string {
		m := map[string]string{"R__v.sql": fmt.Sprintf("DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT %s FROM t;\n", cols)}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	cols := func() string {
		return strings.Join(tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'v' ORDER BY ordinal_position"), ",")
	}
	d1, d2, d3 := flywayState(t, state("a")), flywayState(t, state("a, b")), flywayState(t, state("a, b, c"))
	v1, v2, v3 := repeatableVersion(t, d1, "R__v.sql"), repeatableVersion(t, d2, "R__v.sql"), repeatableVersion(t, d3, "R__v.sql")
	require.Equal(t, []string{"a1", v1}, tg.apply(t, writeConverted(t, d1), nonLinear))
	require.Equal(t, []string{v2}, tg.apply(t, writeConverted(t, d2), nonLinear))
	require.Equal(t, "a,b", cols())
	require.Equal(t, []string{v3}, tg.apply(t, writeConverted(t, d3), nonLinear))
	require.Equal(t, "a,b,c", cols())
	require.ElementsMatch(t, []string{"a1", v1, v2, v3}, tg.revs.versions())

	// Reverted to the first content: the converted directory is the first one again, byte for
	// byte, and its version is already in the revisions table, so atlas does not run it, where
	// Flyway would (its checksum differs from the last one applied). docs/init.md says so, and
	// that any further edit (a comment) makes it run.
	require.Empty(t, tg.apply(t, writeConverted(t, d1), nonLinear))
	require.Equal(t, "a,b,c", cols())
	reverted := state("a")
	reverted["R__v.sql"] = "-- reverted to a only\n" + reverted["R__v.sql"]
	d4 := flywayState(t, reverted)
	require.Equal(t, []string{repeatableVersion(t, d4, "R__v.sql")}, tg.apply(t, writeConverted(t, d4), nonLinear))
	require.Equal(t, "a", cols())
}

// rerunRepeatableUnchanged edits one of two repeatables: only that one runs again. A line-ending
// change alone keeps Flyway's checksum, so it is not a new version either.
func rerunRepeatableUnchanged(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "unchanged")
	files := map[string]string{
		"V1__log.sql":   "CREATE TABLE log (what text);\n",
		"R__a_view.sql": "INSERT INTO log VALUES ('a');\n",
		"R__b_view.sql": "INSERT INTO log VALUES ('b');\n",
	}
	d1 := flywayState(t, files)
	require.Len(t, tg.apply(t, writeConverted(t, d1), nonLinear), 3)
	files["R__b_view.sql"] = "INSERT INTO log VALUES ('b2');\n"
	files["R__a_view.sql"] = "INSERT INTO log VALUES ('a');\r\n"
	d2 := flywayState(t, files)
	require.Equal(t, repeatableVersion(t, d1, "R__a_view.sql"), repeatableVersion(t, d2, "R__a_view.sql"))
	require.Equal(t, []string{repeatableVersion(t, d2, "R__b_view.sql")}, tg.apply(t, writeConverted(t, d2), nonLinear))
	require.Equal(t, []string{"a", "b", "b2"}, tg.query(t, "SELECT what FROM log ORDER BY what"))

	// A directory converted by an earlier kubectl-atlas named repeatables without a checksum
	// (zhex_desc.sql): the new names are new versions, so each repeatable runs once more.
	old := &revisions{}
	for _, v := range []string{"a1", "zgbcahggjgfhh", "zgccahggjgfhh"} {
		require.NoError(t, old.WriteRevision(context.Background(), &migrate.Revision{Version: v, Applied: 1, Total: 1}))
	}
	up := &target{db: tg.db, open: tg.open, revs: old}
	p, err := up.pending(t, writeConverted(t, d2), nonLinear)
	require.NoError(t, err)
	require.Equal(t, []string{repeatableVersion(t, d2, "R__a_view.sql"), repeatableVersion(t, d2, "R__b_view.sql")}, p)
}

// rerunFlywayOutOfOrder: Flyway (outOfOrder=false, its default) refuses a versioned file below
// the newest applied one, and so does atlas's default linear order; a directory with
// repeatables needs non-linear order, which applies it, as Flyway with outOfOrder=true.
func rerunFlywayOutOfOrder(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "outoforder")
	files := map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n", "V3__c.sql": "CREATE TABLE c (id int);\n"}
	tg.apply(t, writeConverted(t, flywayState(t, files)))
	files["V2__b.sql"] = "CREATE TABLE b (id int);\n"
	d := flywayState(t, files)
	require.False(t, d.HasRepeatables())
	_, err := tg.pending(t, writeConverted(t, d))
	var nl *migrate.HistoryNonLinearError
	require.ErrorAs(t, err, &nl)
	require.Equal(t, "a2", nl.OutOfOrder[0].Version())

	files["R__v.sql"] = "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n"
	d = flywayState(t, files)
	require.True(t, d.HasRepeatables())
	require.Equal(t, []string{"a2", repeatableVersion(t, d, "R__v.sql")}, tg.apply(t, writeConverted(t, d), nonLinear))
}

// rerunLiquibaseRunOnChange: a runOnChange changeset runs again, in its place in the changelog,
// when it is edited (not when only whitespace changes); the other changesets run once.
func rerunLiquibaseRunOnChange(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "roc")
	view := func(cols string) string {
		return "--changeset bob:3 runOnChange:true\nCREATE OR REPLACE VIEW user_names AS SELECT " + cols + " FROM users;\n--rollback DROP VIEW user_names;\n"
	}
	files := map[string]string{
		"001_init.sql":  "--liquibase formatted sql\n--changeset alice:1\nCREATE TABLE users (id int PRIMARY KEY, name text);\n--changeset alice:2\nCREATE TABLE log (what text);\n" + view("id, name"),
		"002_more.sql":  "--liquibase formatted sql\n--changeset carol:4\nINSERT INTO log VALUES ('002');\n--changeset carol:5 runOnChange:true\nINSERT INTO log VALUES ('grant');\n",
		"003_later.sql": "--liquibase formatted sql\n--changeset dave:6\nALTER TABLE users ADD COLUMN email text;\n",
	}
	d1 := read(t, writeDir(t, files), migdir.FormatLiquibase)
	require.True(t, d1.HasRepeatables())
	v1 := tg.apply(t, writeConverted(t, d1))
	require.Len(t, v1, 5)
	require.Equal(t, "001", v1[0])
	require.True(t, strings.HasPrefix(v1[1], "001a1-"), v1[1])
	require.Equal(t, "002", v1[2])
	require.True(t, strings.HasPrefix(v1[3], "002a1-"), v1[3])

	// The view now selects the column 003 added, and 004 is new: the edited changeset runs
	// before 004, where Liquibase runs it (its place in the changelog).
	files["001_init.sql"] = strings.Replace(files["001_init.sql"], view("id, name"), view("id, name, email"), 1)
	files["002_more.sql"] = strings.Replace(files["002_more.sql"], "INSERT INTO log VALUES ('grant');", "INSERT  INTO log\n  VALUES ('grant');", 1)
	files["004_last.sql"] = "--liquibase formatted sql\n--changeset erin:7\nINSERT INTO log VALUES ('004');\n"
	d2 := read(t, writeDir(t, files), migdir.FormatLiquibase)
	applied := tg.apply(t, writeConverted(t, d2), nonLinear)
	require.Len(t, applied, 2)
	require.True(t, strings.HasPrefix(applied[0], "001a1-") && applied[0] != v1[1], applied[0])
	require.Equal(t, "004", applied[1])
	require.Equal(t, []string{"email"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'user_names' AND column_name = 'email'"))
	require.Equal(t, []string{"002", "004", "grant"}, tg.query(t, "SELECT what FROM log ORDER BY what"), "a whitespace-only edit does not run it again")
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
