package controlplane

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// TestControlPlane checks that the real API server serves the operator's CRDs, that the admin
// kubeconfig works, and that a user without groups is denied by RBAC.
func TestControlPlane(t *testing.T) {
	env, err := Start(Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.Stop()) })

	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	require.NoError(t, err)
	dyn := dynamic.NewForConfigOrDie(cfg)
	ctx := context.Background()
	for _, res := range []string{"atlasmigrations", "atlasschemas"} {
		gvr := schema.GroupVersionResource{Group: "db.atlasgo.io", Version: "v1alpha1", Resource: res}
		list, err := dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
		require.NoError(t, err, res)
		require.Empty(t, list.Items)
	}

	limited, err := env.AddUser("nobody", nil)
	require.NoError(t, err)
	lcfg, err := clientcmd.BuildConfigFromFlags("", limited)
	require.NoError(t, err)
	gvr := schema.GroupVersionResource{Group: "db.atlasgo.io", Version: "v1alpha1", Resource: "atlasmigrations"}
	_, err = dynamic.NewForConfigOrDie(lcfg).Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "want Forbidden, got %v", err)
}

// TestRestartAPIServer checks that objects survive an API server restart on the same address.
func TestRestartAPIServer(t *testing.T) {
	env, err := Start(Options{WithoutCRDs: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.Stop()) })

	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	require.NoError(t, err)
	dyn := dynamic.NewForConfigOrDie(cfg)
	ctx := context.Background()
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "kept"}}
	_, err = dyn.Resource(cms).Namespace("default").Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, env.RestartAPIServer())
	_, err = dyn.Resource(cms).Namespace("default").Get(ctx, "kept", metav1.GetOptions{})
	require.NoError(t, err)

	// Without CRDs the Atlas kinds are unknown to the server.
	_, err = dyn.Resource(schema.GroupVersionResource{Group: "db.atlasgo.io", Version: "v1alpha1", Resource: "atlasmigrations"}).Namespace("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsNotFound(err), "want NotFound, got %v", err)
}
