package lint

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// The corpus: for each analyzer, the cases of its own tests and docs, per dialect. want lists
// the codes atlas reports, so a case that stops exercising its analyzer fails.

var postgresCorpus = []parityCase{
	{name: "clean", files: []string{"CREATE TABLE t (id int PRIMARY KEY, name text);\n", "ALTER TABLE t ADD COLUMN age int;\n"}, latest: 1},
	{name: "DS101 drop schema", files: []string{"CREATE SCHEMA s;\nCREATE TABLE s.t (id int);\n", "DROP SCHEMA s CASCADE;\n"}, latest: 1, want: []string{"DS101"}},
	{name: "DS102 drop table", files: []string{"CREATE TABLE t (id int);\nCREATE TABLE u (id int);\n", "DROP TABLE t;\n-- a comment\nDROP TABLE u;\n"}, latest: 1, want: []string{"DS102", "DS102"}},
	{name: "DS103 drop column", files: []string{"CREATE TABLE t (id int, a text, b text);\n", "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b, ADD COLUMN c int;\n"}, latest: 1, want: []string{"DS103", "DS103"}},
	{name: "temporary table dropped in the same file", files: []string{"CREATE TABLE t (id int);\n", "CREATE TABLE tmp (id int);\nDROP TABLE tmp;\n"}, latest: 1},
	{name: "MF101 unique index", files: []string{"CREATE TABLE t (id int, a int);\n", "CREATE UNIQUE INDEX t_a ON t (a);\n"}, latest: 1, want: []string{"MF101"}},
	{name: "MF101 unique constraint", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t ADD CONSTRAINT t_a UNIQUE (a);\n"}, latest: 1, want: []string{"MF101"}},
	{name: "MF103 not null column", files: []string{"CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN a int NOT NULL;\n"}, latest: 1, want: []string{"MF103"}},
	{name: "not null column with default", files: []string{"CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;\n"}, latest: 1},
	{name: "MF104 set not null", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"}, latest: 1, want: []string{"MF104"}},
	{name: "BC101 rename table", files: []string{"CREATE TABLE t (id int);\n", "ALTER TABLE t RENAME TO t2;\n"}, latest: 1, want: []string{"DS102"}},
	{name: "BC102 rename column", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t RENAME COLUMN a TO b;\n"}, latest: 1, want: []string{"DS103"}},
	{name: "CD101 foreign key dropped", files: []string{
		"CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, pid int, CONSTRAINT c_pid FOREIGN KEY (pid) REFERENCES p (id));\n",
		"ALTER TABLE c DROP CONSTRAINT c_pid;\n",
	}, latest: 1, want: []string{"CD101"}},
	{name: "foreign key dropped with its column (DS103, no CD101)", files: []string{
		"CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, pid int, CONSTRAINT c_pid FOREIGN KEY (pid) REFERENCES p (id));\n",
		"ALTER TABLE c DROP CONSTRAINT c_pid, DROP COLUMN pid;\n",
	}, latest: 1, want: []string{"DS103"}},
	{name: "nolint", files: []string{
		"CREATE TABLE t (id int, a int, b int, c int);\n",
		"-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN a;\n-- atlas:nolint destructive\nALTER TABLE t DROP COLUMN b;\n-- atlas:nolint\nALTER TABLE t DROP COLUMN c;\n",
	}, latest: 1},
	{name: "nolint file", files: []string{"CREATE TABLE t (id int);\n", "-- atlas:nolint\n\nDROP TABLE t;\n"}, latest: 1},
	{name: "every file", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t DROP COLUMN a;\n", "DROP TABLE t;\n"}, want: []string{"DS102", "DS103"}},
	{name: "baseline of more than ten statements", files: []string{
		"CREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);\nCREATE TABLE t3 (id int);\nCREATE TABLE t4 (id int);\n" +
			"CREATE TABLE t5 (id int);\nCREATE TABLE t6 (id int, a int);\nCREATE TABLE t7 (id int);\nCREATE TABLE t8 (id int);\n" +
			"CREATE TABLE t9 (id int);\nCREATE TABLE t10 (id int);\nDROP TABLE t10;\nALTER TABLE t6 DROP COLUMN a;\n",
		"DROP TABLE t1;\n",
	}, want: []string{"DS102"}},
}

var mariadbCorpus = []parityCase{
	{name: "clean", files: []string{"CREATE TABLE t (id int PRIMARY KEY, name text);\n", "ALTER TABLE t ADD COLUMN age int;\n"}, latest: 1},
	{name: "DS102 drop table", files: []string{"CREATE TABLE t (id int);\nCREATE TABLE u (id int);\n", "DROP TABLE t;\nDROP TABLE u;\n"}, latest: 1, want: []string{"DS102", "DS102"}},
	{name: "DS103 drop column", files: []string{"CREATE TABLE t (id int, a text, b text);\n", "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b, ADD COLUMN c int;\n"}, latest: 1, want: []string{"DS103", "DS103"}},
	{name: "MF101 unique index", files: []string{"CREATE TABLE t (id int, a int);\n", "CREATE UNIQUE INDEX t_a ON t (a);\n"}, latest: 1, want: []string{"MF101"}},
	{name: "MF102 index made unique", files: []string{"CREATE TABLE t (id int, a int, INDEX t_a (a));\n", "ALTER TABLE t DROP INDEX t_a, ADD UNIQUE INDEX t_a (a);\n"}, latest: 1, want: []string{"MF102"}},
	{name: "MY101 not null column without default", files: []string{"CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN a int NOT NULL;\n"}, latest: 1, want: []string{"MY101"}},
	{name: "MF104 modify to not null", files: []string{"CREATE TABLE t (id int, a int NULL);\n", "ALTER TABLE t MODIFY a int NOT NULL;\n"}, latest: 1, want: []string{"MF104"}},
	{name: "inline REFERENCES (MariaDB creates the key: no MY102)", files: []string{"CREATE TABLE p (id int PRIMARY KEY);\n", "CREATE TABLE c (id int, pid int REFERENCES p (id));\n"}, latest: 1},
	{name: "CD101 foreign key dropped", files: []string{
		"CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, pid int, CONSTRAINT c_pid FOREIGN KEY (pid) REFERENCES p (id));\n",
		"ALTER TABLE c DROP FOREIGN KEY c_pid;\n",
	}, latest: 1, want: []string{"CD101"}},
	{name: "foreign key dropped with its column (DS103, no CD101)", files: []string{
		"CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, pid int, CONSTRAINT c_pid FOREIGN KEY (pid) REFERENCES p (id));\n",
		"ALTER TABLE c DROP FOREIGN KEY c_pid, DROP COLUMN pid;\n",
	}, latest: 1, want: []string{"DS103"}},
	{name: "BC102 rename column", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t RENAME COLUMN a TO b;\n"}, latest: 1, want: []string{"DS103"}},
	{name: "nolint", files: []string{
		"CREATE TABLE t (id int, a int, b int);\n",
		"-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN a;\n-- atlas:nolint destructive\nALTER TABLE t DROP COLUMN b;\n",
	}, latest: 1},
	{name: "every file", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t DROP COLUMN a;\n", "DROP TABLE t;\n"}, want: []string{"DS102", "DS103"}},
}

var sqliteCorpus = []parityCase{
	{name: "clean", files: []string{"CREATE TABLE t (id int PRIMARY KEY, name text);\n", "ALTER TABLE t ADD COLUMN age int;\n"}, latest: 1},
	{name: "DS102 drop table", files: []string{"CREATE TABLE t (id int);\n", "DROP TABLE t;\n"}, latest: 1, want: []string{"DS102"}},
	{name: "DS103 drop column", files: []string{"CREATE TABLE t (id int, a text);\n", "ALTER TABLE t DROP COLUMN a;\n"}, latest: 1, want: []string{"DS103"}},
	{name: "MF101 unique index", files: []string{"CREATE TABLE t (id int, a int);\n", "CREATE UNIQUE INDEX t_a ON t (a);\n"}, latest: 1, want: []string{"MF101"}},
	{name: "NOT NULL by table copy (a drop, not LT101, through replay)", files: []string{
		"CREATE TABLE t (id int, a int);\n",
		"CREATE TABLE t2 (id int, a int NOT NULL);\nINSERT INTO t2 SELECT id, a FROM t;\nDROP TABLE t;\nALTER TABLE t2 RENAME TO t;\n",
	}, latest: 1, want: []string{"DS102"}},
	{name: "MF103 not null column", files: []string{"CREATE TABLE t (id int);\n", "ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 1;\n"}, latest: 1},
	{name: "nolint", files: []string{"CREATE TABLE t (id int, a int);\n", "-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN a;\n"}, latest: 1},
	{name: "every file", files: []string{"CREATE TABLE t (id int, a int);\n", "ALTER TABLE t DROP COLUMN a;\n", "DROP TABLE t;\n"}, want: []string{"DS102", "DS103"}},
}

// The real directories of the conversion tests (internal/migdir/testdata), every format, on
// PostgreSQL (their dialect; the atlas-format one is MySQL's).
var conversionDirs = []struct{ dir, format string }{
	{"golang-migrate", migdir.FormatGolangMigrate},
	{"goose", migdir.FormatGoose},
	{"flyway", migdir.FormatFlyway},
	{"dbmate", migdir.FormatDBMate},
	{"liquibase", migdir.FormatLiquibase},
}

func startServer(t *testing.T, start func(context.Context) (*databases.Server, error)) *databases.Server {
	t.Helper()
	srv, err := start(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func freshDB(srv *databases.Server) func(t *testing.T, name string) string {
	return func(t *testing.T, name string) string {
		t.Helper()
		u, err := srv.CreateDatabase(context.Background(), dbName(name))
		require.NoError(t, err)
		return u
	}
}

func TestParityPostgres(t *testing.T) {
	srv := startServer(t, databases.StartPostgres)
	runCorpus(t, postgresCorpus, freshDB(srv))
	for _, c := range conversionDirs {
		t.Run("testdata "+c.dir, func(t *testing.T) {
			d, err := migdir.Read("../migdir/testdata/"+c.dir, migdir.Options{Format: c.format})
			require.NoError(t, err)
			checkParity(t, d, freshDB(srv)(t, "testdata "+c.dir), Options{}, conversionWant[c.dir])
		})
	}
	t.Run("git-base", func(t *testing.T) { gitBaseParity(t, freshDB(srv)(t, "git base")) })
}

// gitBaseParity: a work tree whose branch adds two files on top of main; --git-base main
// analyses those (the first added one and every file after it), atlas and Run alike.
func gitBaseParity(t *testing.T, devURL string) {
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	dir := filepath.Join(repo, "migrations")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ld, err := migrate.NewLocalDir(dir)
	require.NoError(t, err)
	hash := func() {
		sum, err := ld.Checksum()
		require.NoError(t, err)
		require.NoError(t, migrate.WriteSumFile(ld, sum))
	}
	require.NoError(t, ld.WriteFile("1_a.sql", []byte("CREATE TABLE t (id int, a int, b int);\nCREATE TABLE u (id int);\n")))
	require.NoError(t, ld.WriteFile("2_b.sql", []byte("ALTER TABLE t DROP COLUMN a;\n"))) // on main: not analysed
	hash()
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	git("checkout", "-q", "-b", "feature")
	require.NoError(t, ld.WriteFile("3_c.sql", []byte("-- unique\nCREATE UNIQUE INDEX t_b ON t (b);\n")))
	require.NoError(t, ld.WriteFile("4_d.sql", []byte("DROP TABLE u;\n")))
	hash()
	git("add", ".")
	git("commit", "-q", "-m", "feature")
	d, err := migdir.Read(dir, migdir.Options{Format: migdir.FormatAtlas})
	require.NoError(t, err)
	checkParity(t, d, devURL, Options{GitBase: "main"}, []string{"DS102", "MF101"})
}

// conversionWant: what atlas finds in the conversion tests' directories.
var conversionWant = map[string][]string{
	"golang-migrate": {"DS103"},
	"liquibase":      {"DS102"},
}

// TestParityMariaDB gives MariaDB as mysql:// (atlas's driver "mysql"): with maria:// atlas
// v1.2.3 finds no analyzers for driver "mariadb" and reports nothing (see analyzerDriver). The
// last case shows Run on maria:// equals atlas on mysql://.
func TestParityMariaDB(t *testing.T) {
	srv := startServer(t, databases.StartMariaDB)
	mysqlURL := func(t *testing.T, name string) string {
		return "mysql://" + strings.TrimPrefix(freshDB(srv)(t, name), "maria://")
	}
	runCorpus(t, mariadbCorpus, mysqlURL)
	t.Run("testdata atlas", func(t *testing.T) {
		d, err := migdir.Read("../migdir/testdata/atlas", migdir.Options{Format: migdir.FormatAtlas})
		require.NoError(t, err)
		// legacy is created and dropped in the same file: no DS102 (init's text check warns).
		checkParity(t, d, mysqlURL(t, "testdata atlas"), Options{}, []string{"DS103"})
	})
	t.Run("maria scheme", func(t *testing.T) {
		d, err := migdir.Read("../migdir/testdata/atlas", migdir.Options{Format: migdir.FormatAtlas})
		require.NoError(t, err)
		u := mysqlURL(t, "maria scheme")
		checkParity(t, d, u, Options{}, []string{"DS103"}, "maria://"+strings.TrimPrefix(u, "mysql://"))
	})
}

func TestParitySQLite(t *testing.T) {
	runCorpus(t, sqliteCorpus, func(*testing.T, string) string { return DefaultDevURL })
}
