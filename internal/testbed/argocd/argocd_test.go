//go:build e2e

package argocd

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

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

const smokeApp = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: smoke
  namespace: argocd
spec:
  project: default
  source: {repoURL: REPO, targetRevision: HEAD, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: smoke}
  syncPolicy:
    automated: {prune: true}
    syncOptions: [CreateNamespace=true]
`

// The harness on its own: Argo CD syncs two ConfigMaps in waves 0 and 1 from a local repository,
// picks up a commit after Refresh, and prunes a ConfigMap removed from git (the harness playing
// the garbage collector's part).
func TestArgoCD(t *testing.T) {
	ctx := context.Background()
	env, err := controlplane.Start(controlplane.Options{WithoutCRDs: true})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, env.Stop()) })
	a, err := Start(ctx, Options{Kubeconfig: env.Kubeconfig, Config: env.Config})
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("application-controller log:\n%s", tail(filepath.Join(a.Dir, "application-controller.log")))
			t.Logf("repo-server log:\n%s", tail(filepath.Join(a.Dir, "repo-server.log")))
		}
		assert.NoError(t, a.Stop())
	})
	repo, err := a.NewRepo("smoke")
	require.NoError(t, err)
	cm := func(name, wave string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations: {argocd.argoproj.io/sync-wave: \"" + wave + "\"}\ndata: {k: v}\n"
	}
	require.NoError(t, os.MkdirAll(filepath.Join(repo.Dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo.Dir, "app", "a.yaml"), []byte(cm("a", "0")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo.Dir, "app", "b.yaml"), []byte(cm("b", "1")), 0o644))
	sha, err := repo.CommitAll("two ConfigMaps")
	require.NoError(t, err)
	require.NoError(t, a.ApplyYAML(ctx, []byte(strings.ReplaceAll(smokeApp, "REPO", repo.URL))))
	synced := func(sha string) func(*Application) bool {
		return func(app *Application) bool {
			op := app.Status.OperationState
			return app.Status.Sync.Status == "Synced" && app.Status.Sync.Revision == sha && app.Status.Health.Status == "Healthy" &&
				op != nil && op.Phase == "Succeeded" && op.SyncResult != nil && op.SyncResult.Revision == sha
		}
	}
	app, err := a.WaitApplication(ctx, "smoke", "Synced", 5*time.Minute, synced(sha))
	require.NoError(t, err)
	// CreateNamespace=true: Argo CD creates the destination namespace first.
	assert.Equal(t, []string{"Namespace/smoke", "ConfigMap/a", "ConfigMap/b"}, app.Applied())

	require.NoError(t, os.Remove(filepath.Join(repo.Dir, "app", "a.yaml")))
	sha2, err := repo.CommitAll("drop a")
	require.NoError(t, err)
	require.NoError(t, a.Refresh(ctx, "smoke"))
	app, err = a.WaitApplication(ctx, "smoke", "Synced without a", 5*time.Minute, func(app *Application) bool {
		return synced(sha2)(app) && app.Resource("ConfigMap", "a") == nil
	})
	require.NoError(t, err)
	assert.Equal(t, "Pruned", app.Result("ConfigMap", "a").Status)
	_, err = a.Kube.CoreV1().ConfigMaps("smoke").Get(ctx, "a", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "pruned ConfigMap still there: %v", err)
}
