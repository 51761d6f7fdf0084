package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// slowProxy fronts the test API server and holds every request of the given method until the
// client gives up, so a deadline or an interrupt lands inside an API request. It returns a
// kubeconfig that talks to the proxy.
func slowProxy(t *testing.T, method string) string {
	t.Helper()
	target, err := url.Parse(env.Config.Host)
	require.NoError(t, err)
	tr, err := rest.TransportFor(env.Config)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = tr
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Minute):
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: slow, cluster: {server: %q}}]
users: [{name: anyone, user: {}}]
contexts: [{name: slow, context: {cluster: slow, user: anyone}}]
current-context: slow
`, srv.URL)), 0o600))
	return kubeconfig
}

func configMapFile(t *testing.T, ns string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cm.yaml")
	require.NoError(t, os.WriteFile(f, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: "+ns+"}\n"), 0o644))
	return f
}

// A --timeout that expires while the apply request is in flight is a timeout (4), not a
// plain failure: the cause survives every layer.
func TestApplyTimeoutInsideRequestExits4(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig := slowProxy(t, http.MethodPatch)
	r := run(context.Background(), "--kubeconfig", kubeconfig, "apply", "-f", configMapFile(t, ns), "--timeout", "2s")
	assert.Equal(t, exitcode.Timeout, r.code, "%v", r.err)
	assert.ErrorIs(t, r.err, context.DeadlineExceeded)
	assert.Contains(t, r.err.Error(), "configmap/c")
}

// Ctrl-C while the apply request is in flight is an interrupt (130).
func TestApplyInterruptInsideRequestExits130(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig := slowProxy(t, http.MethodPatch)
	ctx, cancel := context.WithCancel(context.Background())
	ch := async(ctx, "--kubeconfig", kubeconfig, "apply", "-f", configMapFile(t, ns), "--timeout", "1m")
	stillRunning(t, ch, time.Second)
	cancel()
	r := await(t, ch)
	assert.Equal(t, exitcode.Interrupted, r.code, "%v", r.err)
}

// A --timeout that expires while wait's first list is in flight is a timeout (4).
func TestWaitTimeoutInsideListExits4(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig := slowProxy(t, http.MethodGet)
	r := run(context.Background(), "--kubeconfig", kubeconfig, "wait", "-n", ns, "atlasmigration/app", "--timeout", "2s")
	assert.Equal(t, exitcode.Timeout, r.code, "%v", r.err)
}

// A Degraded object found by apply exits 3.
func TestApplyDegradedExits3(t *testing.T) {
	ns := newNamespace(t)
	f := filepath.Join(t.TempDir(), "web.yaml")
	// A Deployment whose progress deadline has passed is Degraded in Argo CD's rules; the test
	// plays the controller by writing that status after the apply created it.
	require.NoError(t, os.WriteFile(f, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: `+ns+`, annotations: {argocd.argoproj.io/sync-wave: "0"}}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: nginx}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: after, namespace: `+ns+`, annotations: {argocd.argoproj.io/sync-wave: "1"}}
`), 0o644))
	ch := async(context.Background(), "apply", "-f", f, "--timeout", "10m")
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	var u *unstructured.Unstructured
	require.Eventually(t, func() bool {
		var err error
		u, err = dyn.Resource(deployments).Namespace(ns).Get(context.Background(), "web", metav1.GetOptions{})
		return err == nil
	}, hang, 50*time.Millisecond)
	u.Object["status"] = map[string]any{
		"observedGeneration": u.GetGeneration(),
		"conditions":         []any{map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}},
	}
	_, err := dyn.Resource(deployments).Namespace(ns).UpdateStatus(context.Background(), u, metav1.UpdateOptions{})
	require.NoError(t, err)
	r := await(t, ch)
	assert.Equal(t, exitcode.Degraded, r.code, "%v", r.err)
	assert.Contains(t, r.err.Error(), "exceeded its progress deadline")
}
