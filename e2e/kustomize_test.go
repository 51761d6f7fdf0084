//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

const generatorYAML = `apiVersion: kubectl-atlas.io/v1alpha1
kind: AtlasMigrationGenerator
metadata:
  name: app
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: kubectl-atlas
        args: [kustomize-fn]
spec:
  dir: migrations
  urlFrom:
    secretKeyRef:
      name: app-db
      key: url
`

// The kustomize generator: a changed migration directory rolls out under a new hashed
// ConfigMap name, and the real operator applies the new version.
func TestKustomizeGenerator(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	pluginOnPath(t)
	base := t.TempDir()
	writeFiles(t, base, map[string]string{
		"kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns + "\ngenerators:\n- generator.yaml\nconfigurations:\n- kustomizeconfig.yaml\n",
		"generator.yaml":       generatorYAML,
		"kustomizeconfig.yaml": string(scaffold.NameReferenceConfig()),
	})
	dir := filepath.Join(base, "migrations")
	migrationDir(t, dir, v1Files)
	db := h.SQLite(ns)
	secret(t, ns, "app-db", db.URL())

	first := kustomizeBuild(t, base)
	cm1 := configMapName(t, first)
	require.True(t, strings.HasPrefix(cm1, "app-migrations-"), cm1)
	r := runIn(t, first, "apply", "-f", "-", "--wait", "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "configmap/"+cm1+" serverside-applied")
	assert.Contains(t, r.stdout, "atlasmigration.db.atlasgo.io/app healthy")
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.Contains(t, tables, "users")

	writeFiles(t, dir, map[string]string{v2 + "_posts.sql": "CREATE TABLE posts (id integer PRIMARY KEY);\n"})
	rehash(t, dir)
	second := kustomizeBuild(t, base)
	cm2 := configMapName(t, second)
	require.NotEqual(t, cm1, cm2, "a changed directory gets a new ConfigMap name")
	assert.Contains(t, second, "name: "+cm2, "the AtlasMigration follows the new name")
	r = runIn(t, second, "apply", "-f", "-", "--wait", "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "configmap/"+cm2+" serverside-applied")
	r = run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v2, "--timeout", "1m")
	requireExit(t, r, 0)
	assert.Equal(t, "atlasmigration/app healthy (version "+v2+")\n", r.stdout)
	tables, err = db.Tables(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"atlas_schema_revisions", "posts", "users"}, tables)
}

// pluginOnPath builds kubectl-atlas for kustomize's exec function and puts it first on PATH.
func pluginOnPath(t *testing.T) {
	t.Helper()
	root, err := controlplane.RepoRoot()
	require.NoError(t, err)
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-atlas"), "./cmd/kubectl-atlas")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// kustomizeBuild is `kustomize build --enable-alpha-plugins --enable-exec DIR`, in-process.
func kustomizeBuild(t *testing.T, dir string) string {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = ktypes.EnabledPluginConfig(ktypes.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	b, err := rm.AsYaml()
	require.NoError(t, err)
	return string(b)
}

func configMapName(t *testing.T, yamlStream string) string {
	t.Helper()
	for _, doc := range strings.Split(yamlStream, "\n---\n") {
		if strings.Contains(doc, "\nkind: ConfigMap\n") {
			for _, l := range strings.Split(doc, "\n") {
				if strings.HasPrefix(l, "  name: ") {
					return strings.TrimPrefix(l, "  name: ")
				}
			}
		}
	}
	t.Fatalf("no ConfigMap in:\n%s", yamlStream)
	return ""
}
