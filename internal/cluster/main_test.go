package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// One control plane for the package; every test works in its own namespace.
var env *controlplane.Env

func TestMain(m *testing.M) {
	controlplane.Main(m, controlplane.Options{}, func(e *controlplane.Env) { env = e })
}

var nsCounter atomic.Int32

// newNamespace creates a fresh namespace and a client whose default namespace it is.
func newNamespace(t *testing.T) (*Client, string) {
	t.Helper()
	if env == nil {
		t.Fatal("the test control plane is not started in fuzzing runs: run tests without -fuzz")
	}
	ns := fmt.Sprintf("t%d", nsCounter.Add(1))
	kc := kubernetes.NewForConfigOrDie(env.Config)
	_, err := kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	c, err := NewForConfig(env.Config, ns)
	require.NoError(t, err)
	return c, ns
}

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     data,
	}}
}

// deadConfig points at an address where nothing listens.
func deadConfig() *rest.Config {
	return &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}
}
