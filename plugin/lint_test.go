package plugin

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/lint"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// The verb on the embedded in-memory SQLite (no --dev-url): output formats, exit codes,
// --latest, nolint and lines in a converted directory. Parity with atlas itself, on real
// PostgreSQL, MariaDB and SQLite, is proven in internal/lint.

var lintDropDir = map[string]string{
	"1_a.sql": "CREATE TABLE t (id int, name text, age int);\n",
	"2_b.sql": "-- drop a column\nALTER TABLE t DROP COLUMN name;\n\nCREATE UNIQUE INDEX t_age ON t (age);\n",
}

func TestLintText(t *testing.T) {
	dir := writeTestDir(t, lintDropDir)
	out, errOut, code := runAtlas(t, "lint", "--dir", dir, "--hash")
	require.Equal(t, exitcode.Findings, code, errOut)
	p := filepath.ToSlash(dir)
	assert.Contains(t, out, p+`/2_b.sql:2: error: DS103: Dropping non-virtual column "name"`)
	assert.Contains(t, out, "    fix: Add a pre-migration check")
	assert.Contains(t, out, p+`/2_b.sql:4: warning: MF101: Adding a unique index "t_age" on table "t" might fail in case column "age" contains duplicate entries`)
	assert.Contains(t, out, "2 file(s) analysed up to version 2 on sqlite (0 replayed before)")
	assert.Contains(t, errOut, "error: 1 finding(s) at or above --fail-on error")

	_, _, code = runAtlas(t, "lint", "--dir", dir, "--hash", "--fail-on", "none")
	assert.Equal(t, exitcode.OK, code)
	_, _, code = runAtlas(t, "lint", "--dir", dir, "--hash", "--fail-on", "warning", "--latest", "1")
	assert.Equal(t, exitcode.Findings, code)
}

func TestLintJSONAndLatest(t *testing.T) {
	dir := writeTestDir(t, lintDropDir)
	out, errOut, code := runAtlas(t, "lint", "--dir", dir, "--hash", "-o", "json", "--latest", "1", "--fail-on", "none")
	require.Equal(t, exitcode.OK, code, errOut)
	var res lint.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 1, res.Base)
	assert.Equal(t, 1, res.Files)
	assert.Equal(t, "1", res.From)
	assert.Equal(t, "2", res.To)
	require.Len(t, res.Findings, 2)
	assert.Equal(t, lint.Finding{
		File: filepath.ToSlash(dir) + "/2_b.sql", Line: 2, Version: "2", Code: "DS103", Analyzer: "destructive",
		Severity: lint.Error, Text: `Dropping non-virtual column "name"`, Report: "destructive changes detected",
		Fixes: []string{`Add a pre-migration check to ensure column "name" is NULL before dropping it`},
	}, res.Findings[0])
	assert.Equal(t, "MF101", res.Findings[1].Code)
	assert.Equal(t, lint.Warning, res.Findings[1].Severity)
}

func TestLintGitHub(t *testing.T) {
	dir := writeTestDir(t, lintDropDir)
	out, _, code := runAtlas(t, "lint", "--dir", dir, "--hash", "-o", "github")
	require.Equal(t, exitcode.Findings, code)
	p := filepath.ToSlash(dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Equal(t, "::error file="+p+"/2_b.sql,line=2,title=DS103 (destructive)::Dropping non-virtual column \"name\"%0A"+
		"https://atlasgo.io/lint/analyzers#DS103%0Afix: Add a pre-migration check to ensure column \"name\" is NULL before dropping it", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "::warning file="+p+"/2_b.sql,line=4,title=MF101 (data_depend)::"), lines[1])
}

func TestLintNolint(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"1_a.sql": "CREATE TABLE t (id int, name text, age int);\n",
		"2_b.sql": "-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN name;\n-- atlas:nolint destructive\nALTER TABLE t DROP COLUMN age;\n",
		"3_c.sql": "-- atlas:nolint\n\nDROP TABLE t;\n",
	})
	out, errOut, code := runAtlas(t, "lint", "--dir", dir, "--hash")
	require.Equal(t, exitcode.OK, code, errOut)
	assert.Contains(t, out, "0 finding(s)")
}

// A golang-migrate directory: findings point at the .up.sql file and its line, although the
// converted file has directive lines on top.
func TestLintConvertedLines(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"1_init.up.sql":   "CREATE TABLE t (id int, name text);\nCREATE TABLE u (id int, name text);\n",
		"1_init.down.sql": "DROP TABLE t;\n",
		"2_drop.up.sql":   "-- cleanup\n\nALTER TABLE t DROP COLUMN name;\nSELECT 1;\nALTER TABLE u DROP COLUMN name;\n",
		"2_drop.down.sql": "ALTER TABLE t ADD COLUMN name text;\n",
	})
	out, errOut, code := runAtlas(t, "lint", "--dir", dir, "--fail-on", "none")
	require.Equal(t, exitcode.OK, code, errOut)
	p := filepath.ToSlash(dir)
	assert.Contains(t, out, p+"/2_drop.up.sql:3: error: DS103:")
	assert.Contains(t, out, p+"/2_drop.up.sql:5: error: DS103:")
	assert.Contains(t, errOut, "note: converted 2 golang-migrate migration(s)")
}

func TestLintErrors(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"1_a.sql": "CREATE TABLE t (id int);\n",
		"2_b.sql": "\nCREATE TABLE t (id int);\n",
	})
	_, errOut, code := runAtlas(t, "lint", "--dir", dir, "--hash")
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, errOut, filepath.ToSlash(dir)+"/2_b.sql:2: executing statement: CREATE TABLE t (id int);: table t already exists")
	assert.Contains(t, errOut, "embedded in-memory SQLite")

	for _, args := range [][]string{
		{"lint"},
		{"lint", "--dir", dir, "-o", "yaml"},
		{"lint", "--dir", dir, "--fail-on", "bad"},
		{"lint", "--dir", dir, "--latest", "1", "--git-base", "main"},
		{"lint", "--dir", dir, "--latest", "-1"},
	} {
		_, errOut, code := runAtlas(t, args...)
		assert.Equal(t, exitcode.Usage, code, "%v: %s", args, errOut)
	}
}

// The GitHub Actions job of docs/lint.md, on a real PostgreSQL: the pull request adds a file on
// top of the base branch; `lint --git-base BASE -o github` annotates only that file.
func TestLintGitBasePostgres(t *testing.T) {
	ctx := context.Background()
	srv, err := databases.StartPostgres(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	devURL, err := srv.CreateDatabase(ctx, "dev")
	require.NoError(t, err)

	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	mig := filepath.Join(repo, "migrations")
	require.NoError(t, os.MkdirAll(mig, 0o755))
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(mig, name), []byte(body), 0o644))
	}
	git("init", "-q", "-b", "main")
	write("1_init.up.sql", "CREATE TABLE users (id int PRIMARY KEY, name text, email text);\n")
	write("2_drop.up.sql", "ALTER TABLE users DROP COLUMN name;\n") // already on main: not analysed
	git("add", ".")
	git("commit", "-q", "-m", "base")
	git("checkout", "-q", "-b", "feature")
	write("3_email.up.sql", "-- unique emails\nCREATE UNIQUE INDEX users_email ON users (email);\n\nDROP TABLE users;\n")
	git("add", ".")
	git("commit", "-q", "-m", "feature")

	out, errOut, code := runAtlas(t, "lint", "--dir", mig, "--dev-url", devURL, "--git-base", "main", "-o", "github")
	require.Equal(t, exitcode.Findings, code, errOut)
	p := filepath.ToSlash(mig)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.True(t, strings.HasPrefix(lines[0], "::warning file="+p+"/3_email.up.sql,line=2,title=MF101 (data_depend)::"), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "::error file="+p+"/3_email.up.sql,line=4,title=DS102 (destructive)::Dropping table \"users\""), lines[1])
	assert.Contains(t, errOut, "1 file(s) analysed after version a2 up to a3 on postgres (2 replayed before)")
	assert.NotContains(t, out+errOut, srv.Password)
}

// init and configmap with --lint-dev-url: the analyzers instead of the text check; with
// --deny-destructive only destructive findings refuse.
func TestLintDevURLInConfigMapAndInit(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"1_a.sql": "CREATE TABLE t (id int, a int, b int);\n",
		"2_b.sql": "CREATE TABLE tmp (id int);\nDROP TABLE tmp;\nCREATE UNIQUE INDEX t_a ON t (a);\n",
	})
	dev := "sqlite://dev?mode=memory"
	out, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "m", "--hash", "--lint-dev-url", dev)
	require.Equal(t, exitcode.OK, code, errOut)
	assert.Contains(t, out, "kind: ConfigMap")
	p := filepath.ToSlash(dir)
	assert.Contains(t, errOut, "warning: "+p+"/2_b.sql:3: MF101: Adding a unique index \"t_a\"")
	assert.NotContains(t, errOut, "DS102", "a table created and dropped in the same file is not destructive")

	_, errOut, code = runAtlas(t, "init", "--dir", dir, "--name", "m", "--hash", "-o", "yaml", "--deny-destructive", "--lint-dev-url", dev)
	require.Equal(t, exitcode.OK, code, errOut)
	assert.Contains(t, errOut, "MF101")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "3_c.sql"), []byte("ALTER TABLE t DROP COLUMN b;\n"), 0o644))
	_, errOut, code = runAtlas(t, "init", "--dir", dir, "--name", "m", "--hash", "-o", "yaml", "--deny-destructive", "--lint-dev-url", dev)
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, errOut, "warning: "+p+"/3_c.sql:1: DS103: Dropping non-virtual column \"b\"")
	assert.Contains(t, errOut, "--deny-destructive is set, nothing written: 1 destructive change(s)")
}
