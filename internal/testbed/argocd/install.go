package argocd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// FieldManager is the field manager of what the harness applies.
const FieldManager = "kubectl-atlas-testbed"

var (
	crdGVR         = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	appProjectGVR  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
)

const defaultProject = `apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: argocd
spec:
  sourceRepos: ['*']
  destinations: [{server: '*', namespace: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
`

// install puts Argo CD's CRDs, its namespace, manifests/base/config and the default AppProject
// (argocd-server creates it in a real installation) into the control plane.
func (a *ArgoCD) install(ctx context.Context) error {
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		b, err := os.ReadFile(filepath.Join(a.BinDir, "manifests", "crds", f))
		if err != nil {
			return err
		}
		// Server-side: the CRDs are too big for kubectl's last-applied annotation.
		if err := a.ApplyYAML(ctx, b); err != nil {
			return fmt.Errorf("Argo CD CRD %s: %w", f, err)
		}
	}
	for _, name := range []string{"applications.argoproj.io", "appprojects.argoproj.io"} {
		if err := a.waitEstablished(ctx, name); err != nil {
			return err
		}
	}
	_, err := a.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := a.InstallConfig(ctx); err != nil {
		return err
	}
	return a.ApplyYAML(ctx, []byte(defaultProject))
}

// InstallConfig installs Argo CD's config (manifests/base/config: argocd-cm, argocd-rbac-cm,
// argocd-secret, ...) the way a kustomize installation of Argo CD does: `kustomize build` of a
// kustomization with that base, namespace argocd, and the given Components (e.g. the argocd/
// folder `kubectl atlas init --argocd-app` writes), applied server-side. argocd-cm is replaced as
// a whole, as a GitOps-managed installation would: keys from an earlier patch are gone.
func (a *ArgoCD) InstallConfig(ctx context.Context, components ...string) error {
	dir, err := os.MkdirTemp(a.Dir, "install-")
	if err != nil {
		return err
	}
	// Relative paths, as a kustomization in a repository has them.
	rel := func(p string) (string, error) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		return filepath.Rel(dir, abs)
	}
	base, err := rel(filepath.Join(a.BinDir, "manifests", "config"))
	if err != nil {
		return err
	}
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"namespace":  Namespace,
		"resources":  []string{base},
	}
	if len(components) > 0 {
		var cs []string
		for _, c := range components {
			r, err := rel(c)
			if err != nil {
				return err
			}
			cs = append(cs, r)
		}
		k["components"] = cs
	}
	b, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), b, 0o644); err != nil {
		return err
	}
	out, err := a.Kustomize(ctx, dir)
	if err != nil {
		return err
	}
	if err := a.ApplyYAML(ctx, out); err != nil {
		return err
	}
	return a.replaceConfigMapData(ctx, out)
}

// replaceConfigMapData makes argocd-cm's data exactly that of the argocd-cm in the YAML stream
// (keys another field manager added, e.g. by a patch, go), with an update, not a deletion: the
// controller watches argocd-cm and never sees it missing.
func (a *ArgoCD) replaceConfigMapData(ctx context.Context, stream []byte) error {
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		var cm corev1.ConfigMap
		if err := dec.Decode(&cm); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("no argocd-cm in the built configuration")
			}
			return err
		}
		if cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" {
			continue
		}
		live, err := a.Kube.CoreV1().ConfigMaps(Namespace).Get(ctx, "argocd-cm", metav1.GetOptions{})
		if err != nil {
			return err
		}
		live.Data = cm.Data
		_, err = a.Kube.CoreV1().ConfigMaps(Namespace).Update(ctx, live, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	}
}

// Kustomize runs bin/argocd/kustomize build on dir (the kustomize Argo CD v3.5.1 pins).
func (a *ArgoCD) Kustomize(ctx context.Context, dir string, flags ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(a.BinDir, "kustomize"), append([]string{"build"}, append(flags, dir)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %v: %s", dir, err, stderr.String())
	}
	return out, nil
}

// PatchConfigMap strategic-merge-patches argocd-cm with a patch file's content (YAML), as
// `kubectl -n argocd patch configmap argocd-cm --patch-file FILE` does.
func (a *ArgoCD) PatchConfigMap(ctx context.Context, patch []byte) error {
	j, err := yaml.YAMLToJSON(patch)
	if err != nil {
		return err
	}
	_, err = a.Kube.CoreV1().ConfigMaps(Namespace).Patch(ctx, "argocd-cm", types.StrategicMergePatchType, j, metav1.PatchOptions{FieldManager: "kubectl-patch"})
	return err
}

// ApplyYAML server-side applies every document of a YAML stream (namespaced objects without a
// namespace go to argocd), with force: the harness owns what it applies.
func (a *ArgoCD) ApplyYAML(ctx context.Context, data []byte) error {
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if err := a.Apply(ctx, u); err != nil {
			return err
		}
	}
}

// Apply server-side applies one object.
func (a *ArgoCD) Apply(ctx context.Context, u *unstructured.Unstructured) error {
	gvr, namespaced, err := a.resource(u.GroupVersionKind())
	if err != nil {
		return err
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if namespaced {
		ns := u.GetNamespace()
		if ns == "" {
			ns = Namespace
		}
		_, err = a.Dyn.Resource(gvr).Namespace(ns).Patch(ctx, u.GetName(), types.ApplyPatchType, b, opts)
	} else {
		_, err = a.Dyn.Resource(gvr).Patch(ctx, u.GetName(), types.ApplyPatchType, b, opts)
	}
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// resource maps a kind to its resource through discovery.
func (a *ArgoCD) resource(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	list, err := a.Kube.Discovery().ServerResourcesForGroupVersion(gvk.GroupVersion().String())
	if err != nil {
		return schema.GroupVersionResource{}, false, fmt.Errorf("discovery of %s: %w", gvk.GroupVersion(), err)
	}
	for _, r := range list.APIResources {
		if r.Kind == gvk.Kind && !bytes.ContainsRune([]byte(r.Name), '/') {
			return gvk.GroupVersion().WithResource(r.Name), r.Namespaced, nil
		}
	}
	return schema.GroupVersionResource{}, false, fmt.Errorf("no resource for %s", gvk)
}

func (a *ArgoCD) waitEstablished(ctx context.Context, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		u, err := a.Dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					// Discovery lags the condition a little.
					if _, _, err := a.resource(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}); err == nil {
						return nil
					}
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established within 2 min (last error: %v)", name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
