package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

const migTestdata = "../internal/migdir/testdata"

// runAtlas runs the root command as main does and returns stdout, stderr and the exit code.
func runAtlas(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), exitcode.Code(err)
}

func writeTestDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func TestConfigMapYAML(t *testing.T) {
	out, errOut, code := runAtlas(t, "configmap", "--dir", migTestdata+"/atlas", "--name", "myapp-migrations", "-n", "shop")
	require.Equal(t, 0, code, errOut)
	var cm map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &cm))
	assert.Equal(t, "ConfigMap", cm["kind"])
	assert.Equal(t, map[string]any{"name": "myapp-migrations", "namespace": "shop"}, cm["metadata"])
	data := cm["data"].(map[string]any)
	sum, err := os.ReadFile(migTestdata + "/atlas/atlas.sum")
	require.NoError(t, err)
	assert.Equal(t, string(sum), data["atlas.sum"])
	assert.Len(t, data, 4)
	assert.Contains(t, errOut, "left out: README.md")

	again, _, _ := runAtlas(t, "configmap", "--dir", migTestdata+"/atlas", "--name", "myapp-migrations", "-n", "shop")
	assert.Equal(t, out, again, "deterministic")

	js, _, code := runAtlas(t, "cm", "--dir", migTestdata+"/atlas", "--name", "x", "-o", "json")
	require.Equal(t, 0, code)
	var fromJSON map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &fromJSON))
	assert.Equal(t, data, fromJSON["data"])
	assert.NotContains(t, fromJSON["metadata"], "namespace", "no -n, no namespace: it goes where it is applied")
}

func TestConfigMapConvertAndHash(t *testing.T) {
	out, errOut, code := runAtlas(t, "configmap", "--dir", flywayCopy(t), "--name", "fly")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "converted 5 flyway migration(s)")
	assert.Contains(t, out, "a1a1_email.sql: |")

	dir := writeTestDir(t, map[string]string{"1_a.sql": "CREATE TABLE a (id int);\n"})
	out, errOut, code = runAtlas(t, "configmap", "--dir", dir, "--name", "h", "--hash")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "--hash: atlas.sum computed over 1 file(s)")
	assert.Contains(t, out, "atlas.sum: |")
	_, err := os.Stat(filepath.Join(dir, "atlas.sum"))
	assert.True(t, os.IsNotExist(err), "the directory on disk is not changed")
}

func TestConfigMapLarge(t *testing.T) {
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("%03d_t.sql", i+1)] = "CREATE TABLE t (id int);\n" + strings.Repeat("-- filler for a large directory\n", 300)
	}
	dir := writeTestDir(t, files)
	out, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "big", "--hash")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "argocd.argoproj.io/sync-options: ServerSideApply=true")
	assert.Contains(t, errOut, "past 256 KiB client-side `kubectl apply` and Argo CD's default sync fail")
}

// sumOf is the atlas.sum of files, computed by atlas's own code.
func sumOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var mf []migrate.File
	for _, n := range names {
		mf = append(mf, migrate.NewLocalFile(n, []byte(files[n])))
	}
	hf, err := migrate.NewHashFile(mf)
	require.NoError(t, err)
	b, err := hf.MarshalText()
	require.NoError(t, err)
	return string(b)
}

// TestConfigMapBadInput: every bad input is a clear error with a documented exit code and
// nothing on stdout.
func TestConfigMapBadInput(t *testing.T) {
	good := map[string]string{"1_a.sql": "CREATE TABLE a (id int);\n"}
	big := map[string]string{}
	for i := range 5 {
		big[fmt.Sprintf("%d_big.sql", i+1)] = strings.Repeat("-- x\n", 50000)
	}
	tests := []struct {
		name  string
		files map[string]string // nil: no directory is created
		args  []string          // DIR is replaced by the directory
		code  int
		want  string
	}{
		{"no --dir", nil, []string{"--name", "x"}, exitcode.Usage, "--dir is required"},
		{"no --name", good, []string{"--dir", "DIR"}, exitcode.Usage, "--name is required"},
		{"bad name", good, []string{"--dir", "DIR", "--name", "Bad_Name"}, exitcode.Usage, `--name "Bad_Name" is not a valid object name`},
		{"bad format", good, []string{"--dir", "DIR", "--name", "x", "--format", "sqitch"}, exitcode.Usage, `--format "sqitch" is not supported`},
		{"bad output", good, []string{"--dir", "DIR", "--name", "x", "-o", "wide"}, exitcode.Usage, "--output must be yaml or json"},
		{"unknown flag", good, []string{"--dir", "DIR", "--name", "x", "--nope"}, exitcode.Usage, "unknown flag: --nope"},
		{"positional argument", good, []string{"--dir", "DIR", "--name", "x", "extra"}, exitcode.Usage, "unknown command"},
		{"missing directory", nil, []string{"--dir", "/nonexistent/migrations", "--name", "x"}, exitcode.Failure, "/nonexistent/migrations does not exist"},
		{"not a directory", good, []string{"--dir", "DIR/1_a.sql", "--name", "x"}, exitcode.Failure, "1_a.sql is not a directory"},
		{"empty directory", map[string]string{}, []string{"--dir", "DIR", "--name", "x"}, exitcode.Failure, "no migration files (*.sql) found: point --dir at the folder holding the migrations, or pass --format if they come from another tool"},
		{"another tool's directory", map[string]string{"1_a.up.sql": "SELECT 1;\n"}, []string{"--dir", "DIR", "--name", "x", "--format", "goose"}, exitcode.Failure, "(the directory looks like golang-migrate: pass --format golang-migrate)"},
		{"missing atlas.sum", good, []string{"--dir", "DIR", "--name", "x"}, exitcode.Failure, "Run `atlas migrate hash` in the directory, or pass --hash to compute it in the output"},
		{"edited since atlas.sum", map[string]string{"1_a.sql": "CREATE TABLE a (id bigint);\n", "atlas.sum": sumOf(t, good)}, []string{"--dir", "DIR", "--name", "x"}, exitcode.Failure, "Applied migrations must never be edited (--hash recomputes atlas.sum in the output, without touching the files on disk)"},
		{"non-UTF-8", map[string]string{"1_a.sql": "SELECT '\xff';\n"}, []string{"--dir", "DIR", "--name", "x", "--hash"}, exitcode.Failure, "1_a.sql: line 1: not valid UTF-8"},
		{"invalid key", map[string]string{"1 a.sql": "SELECT 1;\n"}, []string{"--dir", "DIR", "--name", "x", "--hash"}, exitcode.Failure, "file name is not a valid ConfigMap key"},
		{"too large", big, []string{"--dir", "DIR", "--name", "x", "--hash"}, exitcode.Failure, "use a remote directory (kubectl atlas init --remote-dir)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if tt.files != nil {
				dir = writeTestDir(t, tt.files)
			}
			args := []string{"configmap"}
			for _, a := range tt.args {
				args = append(args, strings.Replace(a, "DIR", dir, 1))
			}
			out, errOut, code := runAtlas(t, args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Empty(t, out, "nothing on stdout")
			assert.Contains(t, errOut, tt.want)
		})
	}
}

// configmap reports destructive changes as init and the kustomize generator do, and still packs.
func TestConfigMapWarnsDestructive(t *testing.T) {
	out, errOut, code := runAtlas(t, "configmap", "--dir", migTestdata+"/atlas", "--name", "x")
	require.Equal(t, 0, code, errOut)
	assert.NotEmpty(t, out)
	assert.Contains(t, errOut, "warning: "+migTestdata+"/atlas/20240103000000_drop_legacy.sql:4: DS102: drops table legacy and its data\n")
	assert.Equal(t, 2, strings.Count(errOut, "warning: "))
}

// TestConfigMapSaysWhatTheAtlasMigrationNeeds: a user who writes the AtlasMigration by hand
// learns from stderr that it needs execOrder: non-linear (repeatables) and which baseline.
func TestConfigMapSaysWhatTheAtlasMigrationNeeds(t *testing.T) {
	_, errOut, code := runAtlas(t, "configmap", "--dir", flywayCopy(t), "--name", "fly", "--baseline", "1.1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "note: the AtlasMigration that reads this ConfigMap needs spec.execOrder: non-linear: its Flyway repeatables (R__) run again when edited")
	assert.Contains(t, errOut, `needs spec.baseline: "a1a1"`)
	assert.Contains(t, errOut, "commit kubectl-atlas.ledger with the migrations")

	dir := writeTestDir(t, map[string]string{
		"001_a.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a (id int);\n--changeset a:2 runOnChange:true\nCREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
	})
	out, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "lb")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "needs spec.execOrder: non-linear: its runOnChange changesets run again when edited")
	assert.Regexp(t, `001a1-[0-9a-f]{8}_a_a_2\.sql: \|`, out)

	_, errOut, code = runAtlas(t, "configmap", "--dir", migTestdata+"/golang-migrate", "--name", "gm")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "execOrder", "no repeatables: atlas's default order is the tool's")

	_, errOut, code = runAtlas(t, "configmap", "--dir", migTestdata+"/golang-migrate", "--name", "gm", "--baseline", "7")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--baseline: ")
	assert.Contains(t, errOut, "baseline version 7 (atlas version a7) is not a migration of the directory")

	help, _, _ := runAtlas(t, "configmap", "--help")
	assert.Contains(t, help, "spec.execOrder: non-linear when the directory has Flyway repeatables")
	assert.Contains(t, help, "--baseline")
}

// TestStatusDirSaysPendingIsPartialForReruns: for a non-linear directory, status --dir says that
// its PENDING list cannot show files below lastAppliedVersion (said before any cluster call).
func TestStatusDirSaysPendingIsPartialForReruns(t *testing.T) {
	_, errOut, _ := runAtlas(t, "status", "--dir", migTestdata+"/flyway", "--kubeconfig", filepath.Join(t.TempDir(), "none"), "--server", "https://127.0.0.1:1")
	assert.Contains(t, errOut, "runs non-linear (its Flyway repeatables (R__) run again when edited")
	assert.Contains(t, errOut, "PENDING lists only the files after lastAppliedVersion")
}

// TestConfigMapRerunLedger: configmap and init record a repeatable's new version in the rerun
// ledger beside the migrations (and say so), keep the earlier version as a placeholder, and
// with --write-ledger=false refuse instead of writing, leaving the directory and stdout as
// they were.
func TestConfigMapRerunLedger(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"V1__a.sql": "CREATE TABLE a (id int);\n",
		"R__v.sql":  "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
	})
	ledger := filepath.Join(dir, migdir.LedgerFile)

	out, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "x", "--write-ledger=false")
	require.Equal(t, 1, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "kubectl-atlas.ledger: not found")
	assert.Contains(t, errOut, "--write-ledger=false is set")
	assert.NoFileExists(t, ledger)

	out, errOut, code = runAtlas(t, "configmap", "--dir", dir, "--name", "x")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "note: recorded zhg-")
	assert.Contains(t, errOut, "commit it with the migrations")
	first, err := os.ReadFile(ledger)
	require.NoError(t, err)
	again, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "x", "--write-ledger=false")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, out, again, "a recorded directory reads the same without writing")
	assert.NotContains(t, errOut, "recorded")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "R__v.sql"), []byte("CREATE OR REPLACE VIEW v AS SELECT id, 1 AS one FROM a;\n"), 0o644))
	_, errOut, code = runAtlas(t, "init", "--dir", dir, "--name", "app", "--out", filepath.Join(t.TempDir(), "atlas"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "note: recorded zhg-")
	second, err := os.ReadFile(ledger)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(second), string(first)), "the ledger only grows")
	d, err := migdir.Read(dir, migdir.Options{})
	require.NoError(t, err)
	require.NoError(t, d.CheckLedger())
	assert.Len(t, d.Versions(), 5, "a1, the placeholder of the first view, the edited view, the old and the new change marker")
	for _, f := range d.Files {
		if f.Source == migdir.LedgerFile && !strings.Contains(f.Name, "marker") {
			assert.Contains(t, string(f.Data), "an earlier version of R__v.sql, replaced by zhg-")
		}
	}
}

// TestLedgerGitAttributes: beside the ledger, configmap and init keep the line that makes Git
// merge two branches' ledgers as a union (and say so once), never with --write-ledger=false,
// and leave a line the user wrote for the ledger as it is.
func TestLedgerGitAttributes(t *testing.T) {
	files := map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n", "R__v.sql": "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n"}
	dir := writeTestDir(t, files)
	attrs := filepath.Join(dir, migdir.GitAttributesFile)
	_, errOut, code := runAtlas(t, "configmap", "--dir", dir, "--name", "x", "--write-ledger=false")
	require.Equal(t, 1, code, errOut)
	assert.NoFileExists(t, attrs)

	_, errOut, code = runAtlas(t, "configmap", "--dir", dir, "--name", "x")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "note: wrote `kubectl-atlas.ledger merge=union` to "+attrs+": commit it too")
	assert.NotContains(t, errOut, "left out", ".gitattributes is not reported as a file left out")
	b, err := os.ReadFile(attrs)
	require.NoError(t, err)
	assert.Equal(t, migdir.GitAttributesLine+"\n", string(b))
	_, errOut, code = runAtlas(t, "init", "--dir", dir, "--name", "app", "--out", filepath.Join(t.TempDir(), "atlas"))
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "gitattributes", "kept, not written again")

	// An existing file gains the line; a directory without repeatables gets neither file.
	mine := writeTestDir(t, map[string]string{"V1__a.sql": files["V1__a.sql"], "R__v.sql": files["R__v.sql"], ".gitattributes": "*.sql text eol=lf\n"})
	_, errOut, code = runAtlas(t, "configmap", "--dir", mine, "--name", "x")
	require.Equal(t, 0, code, errOut)
	b, err = os.ReadFile(filepath.Join(mine, ".gitattributes"))
	require.NoError(t, err)
	assert.Equal(t, "*.sql text eol=lf\n"+migdir.GitAttributesLine+"\n", string(b))
	own := writeTestDir(t, map[string]string{"V1__a.sql": files["V1__a.sql"], "R__v.sql": files["R__v.sql"], ".gitattributes": migdir.LedgerFile + " -merge\n"})
	_, errOut, code = runAtlas(t, "configmap", "--dir", own, "--name", "x")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "gitattributes")
	b, err = os.ReadFile(filepath.Join(own, ".gitattributes"))
	require.NoError(t, err)
	assert.Equal(t, migdir.LedgerFile+" -merge\n", string(b))
	plain := writeTestDir(t, map[string]string{"V1__a.sql": files["V1__a.sql"]})
	_, errOut, code = runAtlas(t, "configmap", "--dir", plain, "--name", "x")
	require.Equal(t, 0, code, errOut)
	assert.NoFileExists(t, filepath.Join(plain, ".gitattributes"))
	assert.NoFileExists(t, filepath.Join(plain, migdir.LedgerFile))
}

// flywayCopy is a copy of the Flyway test directory: configmap keeps its ledger and
// .gitattributes up to date in the directory it reads, which must not be the source tree.
func flywayCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "flyway")
	require.NoError(t, os.CopyFS(dir, os.DirFS(migTestdata+"/flyway")))
	return dir
}
