package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// readTree returns every file under dir (relative slash paths -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return out
	}
	require.NoError(t, filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

func TestInitFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atlas")
	args := []string{"init", "--dir", migTestdata + "/atlas", "--name", "shop", "-n", "shop", "--with-db", "mysql",
		"--with-app", "ghcr.io/acme/shop:1.0", "--argocd-app", "--repo-url", "https://github.com/acme/deploy.git", "--out", out}
	stdout, stderr, code := runAtlas(t, args...)
	require.Equal(t, 0, code, stderr)
	first := readTree(t, out)
	assert.Len(t, first, 11)
	assert.Contains(t, stdout, "Wrote 11 files to")
	assert.Contains(t, stdout, "AtlasMigration shop (wave 1)")
	assert.Contains(t, stdout, "kubectl atlas wait atlasmigration/shop")
	assert.Contains(t, stderr, "DS103: drops column email of table users")
	assert.Contains(t, stderr, "20240103000000_drop_legacy.sql:4: DS102")
	assert.Contains(t, first["atlasmigration.yaml"], `kubectl-atlas.io/target-version: "20240103000000"`)
	assert.Contains(t, first["argocd/argocd-cm-health.yaml"], "resource.customizations.health.db.atlasgo.io_AtlasMigration")
	assert.Contains(t, first["argocd/application.yaml"], "path: "+filepath.ToSlash(filepath.Clean(out)))
	assert.NotContains(t, stdout+stderr, "mysql://root:", "the password is never printed")

	// Regenerating gives no diff (the demo password is kept), and refuses without --force.
	_, stderr, code = runAtlas(t, args...)
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, stderr, ": pass --force to overwrite, or choose another folder with --out")
	assert.Equal(t, first, readTree(t, out))
	_, stderr, code = runAtlas(t, append(args, "--force")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, first, readTree(t, out), "regenerating gives no diff")

	// kustomize builds the folder, and the argocd/ Component patches an Argo CD install.
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), out)
	require.NoError(t, err)
	assert.Equal(t, 6, rm.Size())
	install := filepath.Join(filepath.Dir(out), "install")
	require.NoError(t, os.MkdirAll(install, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(install, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(install, "kustomization.yaml"), []byte("resources: [cm.yaml]\ncomponents: [../atlas/argocd]\n"), 0o644))
	rm, err = krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), install)
	require.NoError(t, err)
	cm, err := rm.Resources()[0].Map()
	require.NoError(t, err)
	assert.Contains(t, cm["data"], "resource.customizations.health.db.atlasgo.io_AtlasSchema")
}

func TestInitYAMLStream(t *testing.T) {
	args := []string{"init", "--schema", "testdata/schema.sql", "--schema-configmap", "--name", "decl", "--url-secret", "creds", "-o", "yaml"}
	stdout, stderr, code := runAtlas(t, args...)
	require.Equal(t, 0, code, stderr)
	docs := strings.Split(stdout, "---\n")
	require.Len(t, docs, 2)
	assert.Contains(t, docs[0], "kind: ConfigMap")
	assert.Contains(t, docs[0], "schema.sql: |")
	assert.Contains(t, docs[1], "kind: AtlasSchema")
	assert.Contains(t, docs[1], "name: creds")
	again, _, _ := runAtlas(t, args...)
	assert.Equal(t, stdout, again, "deterministic")
}

func TestInitInlineURLWarning(t *testing.T) {
	stdout, stderr, code := runAtlas(t, "init", "--schema-url", "atlas://app", "--token-secret", "atlas", "--name", "c", "--url", "postgres://u:hunter2@db/app", "-o", "yaml")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "holds a password and will be committed in clear text: use --url-secret instead")
	assert.NotContains(t, stderr, "hunter2")
	assert.Contains(t, stdout, "url: postgres://u:hunter2@db/app", "written only because asked for")
	assert.Contains(t, stdout, "tokenFrom:")
}

// TestInitBadInput: each bad input fails with its exit code, prints nothing on stdout and
// leaves no folder behind.
func TestInitBadInput(t *testing.T) {
	emptySchema := filepath.Join(t.TempDir(), "empty.sql")
	require.NoError(t, os.WriteFile(emptySchema, nil, 0o644))
	latin1 := filepath.Join(t.TempDir(), "schema.sql")
	require.NoError(t, os.WriteFile(latin1, []byte("-- caf\xe9\n"), 0o644))
	dirSrc := []string{"--dir", migTestdata + "/atlas"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no name", dirSrc, exitcode.Usage, "--name is required"},
		{"bad name", append([]string{"--name", "Shop"}, dirSrc...), exitcode.Usage, `--name "Shop"`},
		{"no source", []string{"--name", "a"}, exitcode.Usage, "exactly one of --dir, --remote-dir, --schema or --schema-url"},
		{"two sources", append([]string{"--name", "a", "--schema", "x.sql"}, dirSrc...), exitcode.Usage, "exactly one of"},
		{"format without dir", []string{"--name", "a", "--schema", "x.sql", "--format", "goose"}, exitcode.Usage, "--format, --hash and --baseline apply to --dir only"},
		{"tag without remote", []string{"--name", "a", "--schema", "x.sql", "--tag", "v1"}, exitcode.Usage, "--tag applies to --remote-dir only"},
		{"schema-configmap without schema", append([]string{"--name", "a", "--schema-configmap"}, dirSrc...), exitcode.Usage, "--schema-configmap needs --schema"},
		{"token without cloud", append([]string{"--name", "a", "--token-secret", "t"}, dirSrc...), exitcode.Usage, "--token-secret applies to"},
		{"bad format", append([]string{"--name", "a", "--format", "x"}, dirSrc...), exitcode.Usage, `--format "x" is not supported`},
		{"bad output", append([]string{"--name", "a", "-o", "json"}, dirSrc...), exitcode.Usage, "--output must be yaml"},
		{"bad db", append([]string{"--name", "a", "--with-db", "oracle"}, dirSrc...), exitcode.Usage, "--with-db must be mysql or postgres"},
		{"url and secret", append([]string{"--name", "a", "--url", "x", "--url-secret", "s"}, dirSrc...), exitcode.Usage, "--url or --url-secret, not both"},
		{"url with db", append([]string{"--name", "a", "--url", "x", "--with-db", "mysql"}, dirSrc...), exitcode.Usage, "drop --url"},
		{"dev url twice", append([]string{"--name", "a", "--dev-url", "x", "--dev-url-secret", "s"}, dirSrc...), exitcode.Usage, "--dev-url or --dev-url-secret"},
		{"argocd without repo", append([]string{"--name", "a", "--argocd-app"}, dirSrc...), exitcode.Usage, "--argocd-app needs --repo-url"},
		{"repo without argocd", append([]string{"--name", "a", "--repo-url", "x"}, dirSrc...), exitcode.Usage, "--repo-url applies to --argocd-app only"},
		{"argocd with -o", append([]string{"--name", "a", "--argocd-app", "--repo-url", "x", "-o", "yaml"}, dirSrc...), exitcode.Usage, "drop -o"},
		{"bad secret ref", append([]string{"--name", "a", "--url-secret", "Bad:key"}, dirSrc...), exitcode.Usage, `--url-secret: secret name "Bad"`},
		{"schema url not atlas", []string{"--name", "a", "--schema-url", "file://x"}, exitcode.Failure, "only atlas:// URLs"},
		{"missing dir", []string{"--name", "a", "--dir", "/nonexistent"}, exitcode.Failure, "/nonexistent does not exist"},
		{"down files in an atlas directory", []string{"--name", "a", "--dir", migTestdata + "/golang-migrate", "--format", "atlas"}, exitcode.Failure, "a down migration in an atlas directory: atlas would run it as a migration, so move the down files out of the directory (the directory looks like golang-migrate: pass --format golang-migrate)"},
		{"missing atlas.sum", []string{"--name", "a", "--dir", migTestdata + "/goose", "--format", "atlas"}, exitcode.Failure, "atlas.sum: not found: the directory has no integrity file, so the operator's atlas would refuse it. Run `atlas migrate hash` in the directory, or pass --hash to compute it in the output"},
		{"missing schema", []string{"--name", "a", "--schema", "/nonexistent.sql"}, exitcode.Failure, "schema file /nonexistent.sql does not exist"},
		{"schema is a dir", []string{"--name", "a", "--schema", migTestdata}, exitcode.Failure, "is a directory: --schema takes one .sql or .hcl file"},
		{"empty schema", []string{"--name", "a", "--schema", emptySchema}, exitcode.Failure, "is empty"},
		{"non-UTF-8 schema", []string{"--name", "a", "--schema", latin1}, exitcode.Failure, "not valid UTF-8"},
		{"schema extension", []string{"--name", "a", "--schema", "testdata/schema.sql.txt"}, exitcode.Failure, "must end in .sql or .hcl"},
		{"destructive denied", append([]string{"--name", "a", "--deny-destructive"}, dirSrc...), exitcode.Failure, "--deny-destructive is set, nothing written: 2 destructive change(s) in " + migTestdata + "/atlas: review them; silence one intended change with `-- atlas:nolint DS103` above its statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "atlas")
			stdout, stderr, code := runAtlas(t, append(append([]string{"init"}, tt.args...), "--out", out)...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.want)
			assert.Empty(t, readTree(t, out), "nothing written")
			entries, err := os.ReadDir(filepath.Dir(out))
			require.NoError(t, err)
			assert.Empty(t, entries, "no staging folder left")
		})
	}
}

func TestWithoutCredentials(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		changed  bool
	}{
		{"https://github.com/acme/deploy.git", "https://github.com/acme/deploy.git", false},
		{"https://bob:TOKEN@github.com/acme/deploy.git", "https://github.com/acme/deploy.git", true},
		{"https://TOKEN@github.com/acme/deploy.git", "https://github.com/acme/deploy.git", true},
		{"https://git.example.com/deploy.git?token=abc&ref=x", "https://git.example.com/deploy.git?ref=x", true},
		{"ssh://git@github.com/acme/deploy.git", "ssh://git@github.com/acme/deploy.git", false},
		{"ssh://git:pw@github.com/acme/deploy.git", "ssh://github.com/acme/deploy.git", true},
		{"git@github.com:acme/deploy.git", "git@github.com:acme/deploy.git", false},
	} {
		got, changed := withoutCredentials(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.changed, changed, tc.in)
	}
}

// TestInitBaseline: --baseline takes the source tool's version, maps it to the converted
// file's and sets spec.baseline; a version the directory does not hold is an error.
func TestInitBaseline(t *testing.T) {
	dir := writeTestDir(t, map[string]string{
		"1_a.up.sql":  "\ufeffCREATE TABLE a (id int);\n",
		"2_b.up.sql":  "CREATE TABLE b (id int);\nINSERT INTO schema_migrations VALUES (2, false);\n",
		"10_c.up.sql": "CREATE TABLE c (id int);\n",
	})
	stdout, stderr, code := runAtlas(t, "init", "--dir", dir, "--name", "app", "--baseline", "2", "-o", "yaml")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "  baseline: a2\n")
	assert.Contains(t, stdout, `kubectl-atlas.io/target-version: b10`)
	assert.Contains(t, stderr, "warning: "+filepath.ToSlash(dir)+"/1_a.up.sql:1: starts with a UTF-8 byte order mark: removed in the converted file")
	assert.Contains(t, stderr, "warning: "+filepath.ToSlash(dir)+"/2_b.up.sql:2: references schema_migrations")

	_, stderr, code = runAtlas(t, "init", "--dir", dir, "--name", "app", "--baseline", "3", "-o", "yaml")
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, stderr, "--baseline: "+dir+": baseline version 3 (atlas version a3) is not a migration of the directory (the newest is b10)")
	assert.Contains(t, stderr, "SELECT version FROM schema_migrations")
}

// The folder errors of fsutil, in init's words.
func TestInitOutIsAFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "atlas")
	require.NoError(t, os.WriteFile(out, []byte("mine"), 0o644))
	_, stderr, code := runAtlas(t, "init", "--dir", migTestdata+"/atlas", "--name", "a", "--out", out)
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, stderr, out+" exists and is not a directory: choose another folder with --out")
}
