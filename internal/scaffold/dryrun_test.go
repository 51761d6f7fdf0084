package scaffold

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// Argo CD's module, for the Application CRD (the test control plane has only the operator's).
const argoCDModule = "github.com/argoproj/argo-cd/v3@v3.5.1"

// applicationCRD reads Argo CD's Application CRD from its module (downloaded if needed).
func applicationCRD(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", argoCDModule).Output()
	require.NoError(t, err, "go mod download %s", argoCDModule)
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &mod))
	b, err := os.ReadFile(filepath.Join(mod.Dir, "manifests", "crds", "application-crd.yaml"))
	require.NoError(t, err)
	crd := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, yaml.Unmarshal(b, crd))
	return crd
}

// TestServerSideDryRun applies every object of every case to a real kube-apiserver with the
// operator's CRDs (and Argo CD's Application CRD) as a server-side dry run, the way
// `kubectl apply --server-side --dry-run=server` and Argo CD's ServerSideApply would: field
// names, types and required fields are checked by the API server itself.
func TestServerSideDryRun(t *testing.T) {
	env, err := controlplane.Start(controlplane.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.Stop()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	installApplicationCRD(ctx, t, apiextensionsclient.NewForConfigOrDie(env.Config))

	kc := kubernetes.NewForConfigOrDie(env.Config)
	for _, ns := range []string{"shop", "argocd"} {
		_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(env.Config)))
	dyn := dynamic.NewForConfigOrDie(env.Config)

	apply := func(t *testing.T, u *unstructured.Unstructured) {
		t.Helper()
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		require.NoError(t, err, "%s", gvk)
		ns := u.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		got, err := dyn.Resource(m.Resource).Namespace(ns).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{
			DryRun: []string{metav1.DryRunAll}, FieldManager: atlas.FieldManager, Force: true,
		})
		require.NoError(t, err, "server-side dry-run apply of %s %s", u.GetKind(), u.GetName())
		assert.Equal(t, u.GetName(), got.GetName())
		// Whatever was sent comes back: nothing was pruned as unknown by the schema.
		for _, field := range []string{"spec", "data", "stringData"} {
			if want, ok := u.Object[field]; ok && field != "stringData" {
				assert.Subset(t, keys(got.Object[field]), keys(want), "%s of %s %s", field, u.GetKind(), u.GetName())
			}
		}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, files := buildCase(t, c)
			for _, o := range res.Objects {
				apply(t, o.Unstructured)
			}
			if c.argocd {
				for _, f := range files {
					if f.Path == ArgoCDAppFile {
						u := &unstructured.Unstructured{}
						require.NoError(t, yaml.Unmarshal(f.Data, &u.Object))
						apply(t, u)
					}
				}
			}
		})
	}

	// The dry run is not a rubber stamp: a misspelt field is rejected.
	t.Run("rejects unknown fields", func(t *testing.T) {
		res, _ := buildCase(t, cases[0])
		bad := res.Objects[1].DeepCopy()
		require.NoError(t, unstructured.SetNestedField(bad.Object, "x", "spec", "dirr"))
		gvk := bad.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		require.NoError(t, err)
		_, err = dyn.Resource(m.Resource).Namespace("default").Apply(ctx, bad.GetName(), bad, metav1.ApplyOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: atlas.FieldManager, Force: true})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "dirr")
	})
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// installApplicationCRD creates Argo CD's Application CRD and waits until it is Established.
func installApplicationCRD(ctx context.Context, t *testing.T, ext apiextensionsclient.Interface) {
	t.Helper()
	_, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, applicationCRD(t), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "applications.argoproj.io", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}))
}
