package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// writeFiles writes name -> content into a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

// wavedFolder is a GitOps folder: migrations ConfigMap (wave 0), AtlasMigration (wave 1), the
// app's ConfigMap (wave 2) that must not be applied before the migration is healthy.
var wavedFolder = map[string]string{
	"10-migrations.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-migrations
data:
  1_init.sql: CREATE TABLE t (id int);
`,
	"20-migration.yaml": `apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata:
  name: app
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  urlFrom: {secretKeyRef: {name: db, key: url}}
  dir: {configMapRef: {name: app-migrations}}
`,
	"30-app.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  annotations:
    argocd.argoproj.io/sync-wave: "2"
data: {mode: prod}
`,
}

func exists(t *testing.T, gvr schema.GroupVersionResource, ns, name string) bool {
	t.Helper()
	_, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(t, err)
	return true
}

func waitExists(t *testing.T, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	require.Eventually(t, func() bool { return exists(t, gvr, ns, name) }, hang, 50*time.Millisecond, "%s %s/%s", gvr.Resource, ns, name)
}

func TestApplyHoldsWaveUntilMigrationHealthy(t *testing.T) {
	ns := newNamespace(t)
	dir := writeFiles(t, wavedFolder)
	ch := async(context.Background(), "apply", "-n", ns, "-f", dir, "--timeout", "10m")
	waitExists(t, atlas.MigrationGVR, ns, "app")
	stillRunning(t, ch, 1500*time.Millisecond)
	assert.False(t, exists(t, cmGVR, ns, "app-config"), "wave 2 applied before the wave-1 AtlasMigration was healthy")
	setStatus(t, ns, mig, "app", reconciling)
	stillRunning(t, ch, 500*time.Millisecond)
	setStatus(t, ns, mig, "app", applied("1"))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stdout)
	assert.True(t, exists(t, cmGVR, ns, "app-config"))
	assert.Equal(t, `wave 0: 1 object(s)
  configmap/app-migrations serverside-applied
wave 1: 1 object(s)
  atlasmigration.db.atlasgo.io/app serverside-applied
  atlasmigration.db.atlasgo.io/app healthy
wave 2: 1 object(s)
  configmap/app-config serverside-applied
`, r.stdout[:strings.LastIndex(r.stdout[:len(r.stdout)-1], "\n")+1])
	assert.Contains(t, r.stdout, "applied 3 object(s) in 3 wave(s); waited for 1 to become healthy")

	// Server-side apply with our field manager.
	obj, err := dyn.Resource(cmGVR).Namespace(ns).Get(context.Background(), "app-config", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, obj.GetManagedFields())
	assert.Equal(t, atlas.FieldManager, obj.GetManagedFields()[0].Manager)
	assert.Equal(t, metav1.ManagedFieldsOperationApply, obj.GetManagedFields()[0].Operation)

	// Applying again: everything is healthy already, no waiting (--timeout 0 checks once).
	r = run(context.Background(), "apply", "-n", ns, "-f", dir, "--timeout", "0", "--wait")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
}

func TestApplyStopsOnDegraded(t *testing.T) {
	ns := newNamespace(t)
	dir := writeFiles(t, wavedFolder)
	ch := async(context.Background(), "apply", "-n", ns, "-f", dir, "--timeout", "10m")
	waitExists(t, atlas.MigrationGVR, ns, "app")
	setStatus(t, ns, mig, "app", failed("Migrating", "Error: checksum mismatch\nurl: postgres://app:hunter2@db/app"))
	r := await(t, ch)
	assert.Equal(t, exitcode.Degraded, r.code, "%v", r.err)
	msg := r.err.Error()
	assert.Contains(t, msg, "wave 1 failed: atlasmigration.db.atlasgo.io/app ("+filepath.Join(dir, "20-migration.yaml")+":1) is Degraded")
	assert.Contains(t, msg, "checksum mismatch")
	assert.Contains(t, msg, "Objects of wave 0 stay applied. Nothing of the later 1 group(s) was applied.")
	assert.NotContains(t, msg+r.stdout+r.stderr, "hunter2")
	assert.True(t, exists(t, cmGVR, ns, "app-migrations"))
	assert.False(t, exists(t, cmGVR, ns, "app-config"))
}

func TestApplyWaitGatesLastWave(t *testing.T) {
	ns := newNamespace(t)
	dir := writeFiles(t, map[string]string{"m.yaml": wavedFolder["20-migration.yaml"]})
	// Without --wait the last wave is not health-gated, as in Argo CD.
	r := run(context.Background(), "apply", "-n", ns, "-f", dir)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	bumpGeneration(t, ns, mig, "app")
	r = run(context.Background(), "apply", "-n", ns, "-f", dir, "--wait", "--timeout", "1s")
	assert.Equal(t, exitcode.Timeout, r.code, "%v", r.err)
	assert.ErrorContains(t, r.err, "still waiting for atlasmigration.db.atlasgo.io/app (Progressing)")

	// --timeout 0 means what it means in wait: check once, do not wait.
	r = run(context.Background(), "apply", "-n", ns, "-f", dir, "--wait", "--timeout", "0")
	assert.Equal(t, exitcode.Timeout, r.code, "%v", r.err)
	assert.ErrorContains(t, r.err, "still waiting for atlasmigration.db.atlasgo.io/app (Progressing)")
}

func TestApplyRefusesBeforeApplyingAnything(t *testing.T) {
	ns := newNamespace(t)
	dir := writeFiles(t, map[string]string{
		"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n",
		"b.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
	})
	r := run(context.Background(), "apply", "-n", ns, "-f", dir)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "nothing was applied")
	assert.ErrorContains(t, r.err, filepath.Join(dir, "b.yaml")+":1: widget.example.com/w: the cluster does not know kind Widget in example.com/v1")
	assert.False(t, exists(t, cmGVR, ns, "first"))

	bad := writeFiles(t, map[string]string{"x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"})
	r = run(context.Background(), "apply", "-n", ns, "-f", bad)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, filepath.Join(bad, "x.yaml")+":4: invalid YAML")

	other := writeFiles(t, map[string]string{"x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: elsewhere}\n"})
	r = run(context.Background(), "apply", "-n", ns, "-f", other)
	assert.ErrorContains(t, r.err, `its namespace "elsewhere" does not match -n `+ns)

	r = run(context.Background(), "apply", "-n", ns)
	assert.Equal(t, exitcode.Usage, r.code)
}

func TestApplyConflictAndRBAC(t *testing.T) {
	ns := newNamespace(t)
	// Another tool owns data.mode.
	owned := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "shared", "namespace": ns}, "data": map[string]any{"mode": "theirs"}}}
	_, err := dyn.Resource(cmGVR).Namespace(ns).Apply(context.Background(), "shared", owned, metav1.ApplyOptions{FieldManager: "helm"})
	require.NoError(t, err)
	dir := writeFiles(t, map[string]string{
		"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before, annotations: {argocd.argoproj.io/sync-wave: \"-1\"}}\n",
		"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {mode: ours}\n",
	})
	r := run(context.Background(), "apply", "-n", ns, "-f", dir)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "wave 0 failed: applying configmap/shared in namespace "+ns+" from "+filepath.Join(dir, "b.yaml")+":1")
	assert.ErrorContains(t, r.err, `conflict with "helm"`)
	assert.ErrorContains(t, r.err, "--force-conflicts")
	assert.ErrorContains(t, r.err, "Objects of wave -1 stay applied.")
	r = run(context.Background(), "apply", "-n", ns, "-f", dir, "--force-conflicts")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)

	kubeconfig, err := env.AddUser("applier-"+ns, nil)
	require.NoError(t, err)
	r = run(context.Background(), "--kubeconfig", kubeconfig, "apply", "-n", ns, "-f", dir)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "not allowed (RBAC)")
	assert.ErrorContains(t, r.err, "applying configmap/before")
}

func TestApplyKustomizeCRDAndDryRun(t *testing.T) {
	ns := newNamespace(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	dir := writeFiles(t, map[string]string{
		"kustomization.yaml": "resources: [crd.yaml, widget.yaml, cm.yaml]\nnamespace: " + ns + "\n",
		"crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.` + group + `}
spec:
  group: ` + group + `
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
		"widget.yaml": "apiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
		"cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
	})
	r := run(context.Background(), "apply", "-k", dir, "--dry-run=client")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "wave 0: 3 object(s)\n  configmap/c (dry run)\n  customresourcedefinition.apiextensions.k8s.io/widgets."+group+" (dry run)\n  widget."+group+"/w (dry run)\n", r.stdout[:strings.Index(r.stdout, "would apply")])
	assert.False(t, exists(t, cmGVR, ns, "c"))

	r = run(context.Background(), "apply", "-k", dir, "--timeout", "30s")
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stdout)
	assert.True(t, exists(t, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, ns, "w"))

	// Server dry run stores nothing.
	r = run(context.Background(), "apply", "-n", ns, "-f", writeFiles(t, map[string]string{"d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n"}), "--dry-run=server")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "configmap/dry serverside-applied (server dry run)")
	assert.False(t, exists(t, cmGVR, ns, "dry"))
}
