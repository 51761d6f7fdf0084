package migdir_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/mysql"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// The converted directories are applied to real databases with atlas's own executor
// (ariga.io/atlas/sql/migrate, what the atlas CLI inside the operator runs), honouring
// `-- atlas:txmode` per file as the CLI does: a file runs in its own transaction unless its
// directive says none. A statement that refuses a transaction block (CREATE INDEX
// CONCURRENTLY, VACUUM) therefore fails the test unless the conversion kept the tool's
// non-transactional semantics.

// revisions is an in-memory migrate.RevisionReadWriter, kept sorted by version as atlas's own.
type revisions struct {
	mu   sync.Mutex
	revs []*migrate.Revision
}

func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: "atlas_schema_revisions"}
}

func (r *revisions) ReadRevisions(context.Context) ([]*migrate.Revision, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*migrate.Revision(nil), r.revs...), nil
}

func (r *revisions) ReadRevision(_ context.Context, v string) (*migrate.Revision, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rev := range r.revs {
		if rev.Version == v {
			return rev, nil
		}
	}
	return nil, migrate.ErrRevisionNotExist
}

func (r *revisions) WriteRevision(_ context.Context, rev *migrate.Revision) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, have := range r.revs {
		if have.Version == rev.Version {
			r.revs[i] = rev
			return nil
		}
	}
	r.revs = append(r.revs, rev)
	sort.Slice(r.revs, func(i, j int) bool { return r.revs[i].Version < r.revs[j].Version })
	return nil
}

func (r *revisions) DeleteRevision(_ context.Context, v string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rev := range r.revs {
		if rev.Version == v {
			r.revs = append(r.revs[:i], r.revs[i+1:]...)
			return nil
		}
	}
	return nil
}

func (r *revisions) versions() []string {
	var out []string
	for _, rev := range r.revs {
		out = append(out, rev.Version)
	}
	return out
}

// target is one database to apply to.
type target struct {
	db   *sql.DB
	open func(schema.ExecQuerier) (migrate.Driver, error)
	revs *revisions
}

func newTarget(t *testing.T, srv *databases.Server, name string) *target {
	t.Helper()
	ctx := context.Background()
	_, err := srv.CreateDatabase(ctx, name)
	require.NoError(t, err)
	driver, dsn := srv.DSN(name)
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	open := postgres.Open
	if srv.Kind == databases.MariaDB {
		open = mysql.Open
	}
	return &target{db: db, open: open, revs: &revisions{}}
}

// writeConverted writes a converted directory where atlas's LocalDir reads it (sorting by name).
func writeConverted(t *testing.T, d *migdir.Dir) migrate.Dir {
	t.Helper()
	dir := t.TempDir()
	for _, f := range d.Files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
	}
	local, err := migrate.NewLocalDir(dir)
	require.NoError(t, err)
	require.NoError(t, migrate.Validate(local))
	return local
}

// apply runs the pending files of dir on tg, each in a transaction unless its txmode is none,
// and returns the versions it applied.
func (tg *target) apply(t *testing.T, dir migrate.Dir, opts ...migrate.ExecutorOption) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := tg.db.Conn(ctx) // one session, as the atlas CLI holds
	require.NoError(t, err)
	defer conn.Close()
	drv, err := tg.open(conn)
	require.NoError(t, err)
	ex, err := migrate.NewExecutor(drv, dir, tg.revs, opts...)
	require.NoError(t, err)
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil
	}
	require.NoError(t, err)
	var applied []string
	for _, f := range pending {
		modes := f.(*migrate.LocalFile).Directive("txmode")
		if len(modes) == 1 && modes[0] == "none" {
			require.NoError(t, ex.Execute(ctx, f), "%s (no transaction)", f.Name())
		} else {
			require.Empty(t, modes, f.Name())
			tx, err := conn.BeginTx(ctx, nil)
			require.NoError(t, err)
			tdrv, err := tg.open(tx)
			require.NoError(t, err)
			tex, err := migrate.NewExecutor(tdrv, dir, tg.revs)
			require.NoError(t, err)
			if err := tex.Execute(ctx, f); err != nil {
				_ = tx.Rollback()
				t.Fatalf("%s (in a transaction): %v", f.Name(), err)
			}
			require.NoError(t, tx.Commit())
		}
		applied = append(applied, f.Version())
	}
	return applied
}

func (tg *target) query(t *testing.T, q string) []string {
	t.Helper()
	rows, err := tg.db.Query(q)
	require.NoError(t, err, q)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func read(t *testing.T, dir, format string) *migdir.Dir {
	t.Helper()
	d, err := migdir.Read(dir, migdir.Options{Format: format})
	require.NoError(t, err)
	return d
}

const bom = "\ufeff"

// golangMigrateDir is a numbered golang-migrate directory of n migrations in the shape of
// real projects: a table per file, every tenth file a CREATE INDEX CONCURRENTLY on its own,
// one file wrapped in BEGIN/COMMIT, one saved with a BOM and CRLF line endings.
func golangMigrateDir(n int) map[string]string {
	files := map[string]string{}
	for i := 1; i <= n; i++ {
		var up string
		switch {
		case i%10 == 0:
			up = fmt.Sprintf("CREATE INDEX CONCURRENTLY t%d_name ON t%d (name);\n", i-1, i-1)
		case i == 7:
			up = "BEGIN;\nCREATE TABLE t7 (id bigserial PRIMARY KEY, name text);\nINSERT INTO t7 (name) VALUES ('a;b');\nCOMMIT;\n"
		case i == 3:
			up = bom + "-- saved on Windows\r\nCREATE TABLE t3 (\r\n  id bigserial PRIMARY KEY,\r\n  name text\r\n);\r\n"
		default:
			up = fmt.Sprintf("CREATE TABLE t%d (id bigserial PRIMARY KEY, name text);\n", i)
		}
		files[fmt.Sprintf("%d_step%d.up.sql", i, i)] = up
		files[fmt.Sprintf("%d_step%d.down.sql", i, i)] = "SELECT 1;\n"
	}
	return files
}

// TestApplyPostgres applies a converted directory of every format to a real PostgreSQL.
func TestApplyPostgres(t *testing.T) {
	ctx := context.Background()
	srv, err := databases.StartPostgres(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	for _, c := range []struct {
		name string
		run  func(*testing.T, *databases.Server)
	}{
		{"golang-migrate grows past 100 files", applyGolangMigrateGrowth},
		{"goose", applyGoose},
		{"flyway", applyFlyway},
		{"liquibase", applyLiquibase},
		{"dbmate", applyDBMate},
		{"baseline adopts a database the old tool migrated", applyBaseline},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv) })
	}
}

func applyGolangMigrateGrowth(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "gm")
	small := t.TempDir()
	writeFiles(t, small, golangMigrateDir(99))
	d := read(t, small, migdir.FormatGolangMigrate)
	require.Len(t, tg.apply(t, writeConverted(t, d)), 99)
	// The directory grows to 105 files: the 99 applied keep their names, so atlas applies
	// exactly the 6 new ones on the migrated database.
	big := t.TempDir()
	writeFiles(t, big, golangMigrateDir(105))
	applied := tg.apply(t, writeConverted(t, read(t, big, migdir.FormatGolangMigrate)))
	require.Equal(t, []string{"c100", "c101", "c102", "c103", "c104", "c105"}, applied)
	require.Equal(t, []string{"t89_name", "t99_name", "t9_name"}, tg.query(t, "SELECT indexname FROM pg_indexes WHERE indexname IN ('t9_name','t89_name','t99_name') ORDER BY indexname"))
	require.Equal(t, []string{"a;b"}, tg.query(t, "SELECT name FROM t7"))
	require.Equal(t, []string{"2"}, tg.query(t, "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 't3' AND column_name IN ('id','name')"))
}

func applyGoose(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "goose")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"00001_init.sql":        bom + "-- +goose Up\r\nCREATE TABLE users (id int PRIMARY KEY); -- the users\r\nCREATE TABLE posts (id int PRIMARY KEY, user_id int); -- their posts\r\n\r\n-- +goose Down\r\nDROP TABLE posts;\r\nDROP TABLE users;\r\n",
		"00002_func.sql":        "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION bump(i int) RETURNS int AS $$\nBEGIN\n  RETURN i + 1;\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION bump;\n",
		"00003_index.sql":       "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY posts_user ON posts (user_id); -- online\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n-- +goose Down\nDROP INDEX posts_user;\n",
		"20240101120000_ts.sql": "-- +goose up\nINSERT INTO users VALUES (1); -- seed; not a statement\nINSERT INTO users VALUES (2);\n",
	})
	d := read(t, dir, migdir.FormatGoose)
	require.Equal(t, []string{"a1", "a2", "a3", "n20240101120000"}, tg.apply(t, writeConverted(t, d)))
	require.Equal(t, []string{"posts_user", "users_id"}, tg.query(t, "SELECT indexname FROM pg_indexes WHERE indexname IN ('posts_user','users_id') ORDER BY 1"))
	require.Equal(t, []string{"2"}, tg.query(t, "SELECT bump(1)::text"))
	require.Equal(t, []string{"2"}, tg.query(t, "SELECT count(*)::text FROM users"))
}

func applyFlyway(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "flyway")
	dir := t.TempDir()
	files := map[string]string{
		"V1__init.sql":         "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
		"V1.1__email.sql":      "ALTER TABLE users ADD COLUMN name text;\n",
		"V1.2__more.sql":       "CREATE TABLE orders (id int PRIMARY KEY, user_id int);\n",
		"sql/V2__index.sql":    bom + "CREATE INDEX CONCURRENTLY orders_user ON orders (user_id);\r\n",
		"V10__vacuum.sql":      "VACUUM ANALYZE orders;\n",
		"V10.0.1__tags.sql":    "CREATE TABLE tags (id int);\n",
		"R__views.sql":         "CREATE OR REPLACE VIEW user_names AS SELECT id, name FROM users;\n",
		"R__a_first_view.sql":  "CREATE OR REPLACE VIEW order_ids AS SELECT id FROM orders;\n",
		"V3__conf.sql":         "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
		"V3__conf.sql.conf":    "executeInTransaction=false\n",
		"V4__history_note.sql": "-- flyway_schema_history is in a comment only\nSELECT 1;\n",
	}
	writeFiles(t, dir, files)
	d := read(t, dir, migdir.FormatFlyway)
	require.True(t, d.HasRepeatables())
	applied := tg.apply(t, writeConverted(t, d))
	require.Len(t, applied, 11, "10 files and the change marker")
	require.True(t, sort.StringsAreSorted(applied))
	require.NoError(t, os.WriteFile(filepath.Join(dir, migdir.LedgerFile), d.Ledger, 0o644)) // as init records it
	require.Equal(t, []string{"orders_user", "users_email"}, tg.query(t, "SELECT indexname FROM pg_indexes WHERE indexname IN ('orders_user','users_email') ORDER BY 1"))
	// A versioned file added after the repeatables ran sorts before them: non-linear
	// execution (what the scaffold sets for such directories) applies it.
	writeFiles(t, dir, map[string]string{"V11__late.sql": "CREATE TABLE late (id int);\n"})
	d = read(t, dir, migdir.FormatFlyway)
	applied = tg.apply(t, writeConverted(t, d), migrate.WithExecOrder(migrate.ExecOrderNonLinear))
	require.Equal(t, []string{"b11", d.LatestVersion()}, applied, "then the new change marker")
}

func applyLiquibase(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "liquibase")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"001_init.sql":  bom + "--liquibase formatted sql\n\n--changeset alice:1\nCREATE TABLE users (id int PRIMARY KEY, email text);\n--rollback DROP TABLE users;\n\n--changeset alice:2 splitStatements:false\nCREATE FUNCTION one() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n",
		"002_index.sql": "--liquibase formatted sql\n--changeset bob:3 runInTransaction:false\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n--rollback DROP INDEX users_email;\n",
	})
	d := read(t, dir, migdir.FormatLiquibase)
	require.Equal(t, []string{"001", "002"}, tg.apply(t, writeConverted(t, d)))
	require.Equal(t, []string{"1"}, tg.query(t, "SELECT one()::text"))
	require.Equal(t, []string{"users_email"}, tg.query(t, "SELECT indexname FROM pg_indexes WHERE indexname = 'users_email'"))
}

func applyDBMate(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "dbmate")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"20240101000000_init.sql":  bom + "-- migrate:up\r\nCREATE TABLE users (id int PRIMARY KEY);\r\n\r\n-- migrate:down\r\nDROP TABLE users;\r\n",
		"20240102000000_index.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n\n-- migrate:down\nDROP INDEX users_id;\n",
	})
	d := read(t, dir, migdir.FormatDBMate)
	require.Equal(t, []string{"20240101000000", "20240102000000"}, tg.apply(t, writeConverted(t, d)))
	require.Equal(t, []string{"users_id"}, tg.query(t, "SELECT indexname FROM pg_indexes WHERE indexname = 'users_id'"))
}

func applyBaseline(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "adopt")
	dir := t.TempDir()
	writeFiles(t, dir, golangMigrateDir(12))
	// golang-migrate applied 1..9 before: the same schema, made here by running them.
	first := t.TempDir()
	writeFiles(t, first, golangMigrateDir(9))
	fresh := &target{db: tg.db, open: tg.open, revs: &revisions{}}
	fresh.apply(t, writeConverted(t, read(t, first, migdir.FormatGolangMigrate)))
	d := read(t, dir, migdir.FormatGolangMigrate)
	v, err := d.BaselineVersion("9")
	require.NoError(t, err)
	require.Equal(t, "a9", v)
	local := writeConverted(t, d)
	// Revisions recorded under an earlier plugin's zero-padded names (01 .. 09) match none of
	// the new names: atlas would take every file for pending. Hence the one-time adoption with
	// a fresh revisions table and the baseline (docs/init.md).
	old := &revisions{}
	for i := 1; i <= 9; i++ {
		require.NoError(t, old.WriteRevision(context.Background(), &migrate.Revision{Version: fmt.Sprintf("%02d", i), Applied: 1, Total: 1}))
	}
	conn, err := tg.db.Conn(context.Background())
	require.NoError(t, err)
	drv, err := tg.open(conn)
	require.NoError(t, err)
	ex, err := migrate.NewExecutor(drv, local, old)
	require.NoError(t, err)
	pending, err := ex.Pending(context.Background())
	require.NoError(t, err)
	require.Len(t, pending, 12)
	require.NoError(t, conn.Close())

	applied := tg.apply(t, local, migrate.WithBaselineVersion(v))
	require.Equal(t, []string{"b10", "b11", "b12"}, applied)
	require.Equal(t, []string{"a9", "b10", "b11", "b12"}, tg.revs.versions(), "the baseline is recorded, then the new files")
}

// TestApplyMariaDB applies converted MySQL-dialect directories to a real MariaDB.
func TestApplyMariaDB(t *testing.T) {
	ctx := context.Background()
	srv, err := databases.StartMariaDB(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	for _, c := range []struct {
		name string
		run  func(*testing.T, *databases.Server)
	}{
		{"golang-migrate", applyMariaGolangMigrate},
		{"goose trigger block", applyMariaGooseTrigger},
		{"dbmate", applyMariaDBMate},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv) })
	}
}

func applyMariaGolangMigrate(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "gm")
	dir := t.TempDir()
	files := map[string]string{}
	for i := 1; i <= 101; i++ {
		files[fmt.Sprintf("%06d_t%d.up.sql", i, i)] = fmt.Sprintf("CREATE TABLE `t%d` (`id` bigint NOT NULL AUTO_INCREMENT, `name` varchar(64), PRIMARY KEY (`id`)) ENGINE=InnoDB;\n", i)
	}
	files["000003_t3.up.sql"] = bom + "CREATE TABLE `t3` (\r\n  `id` int NOT NULL\r\n);\r\nINSERT INTO `t3` VALUES (1);\r\n"
	writeFiles(t, dir, files)
	applied := tg.apply(t, writeConverted(t, read(t, dir, migdir.FormatGolangMigrate)))
	require.Len(t, applied, 101)
	require.Equal(t, "c101", applied[100])
	require.Equal(t, []string{"1"}, tg.query(t, "SELECT id FROM t3"))
}

func applyMariaGooseTrigger(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "goose")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"1_init.sql":    "-- +goose Up\nCREATE TABLE a (id int, x int, y int); -- first\nCREATE TABLE b (id int); -- second\n-- +goose Down\nDROP TABLE a;\n",
		"2_trigger.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END\n-- +goose StatementEnd\n",
		"3_seed.sql":    "-- +goose Up\nINSERT INTO a (id) VALUES (1);\n",
	})
	tg.apply(t, writeConverted(t, read(t, dir, migdir.FormatGoose)))
	require.Equal(t, []string{"1 2"}, tg.query(t, "SELECT CONCAT(x, ' ', y) FROM a"))
	require.Equal(t, []string{"a", "b"}, tg.query(t, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'goose' ORDER BY 1"))
}

func applyMariaDBMate(t *testing.T, srv *databases.Server) {
	tg := newTarget(t, srv, "dbmate")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"20240101000000_init.sql": "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n",
		"20240102000000_more.sql": bom + "-- migrate:up\r\nALTER TABLE users ADD COLUMN email varchar(255);\r\n",
	})
	require.Len(t, tg.apply(t, writeConverted(t, read(t, dir, migdir.FormatDBMate))), 2)
	require.Equal(t, []string{"email"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'dbmate' AND table_name = 'users' AND column_name = 'email'"))
}
