// Package examples holds complete GitOps folders; this test keeps them from rotting: the generated
// files must be what `kubectl atlas init` writes today, every README must show the command that
// generated its folder, and every folder must build with kustomize and pass a server-side dry-run
// against the real test control plane (the operator's CRDs, Argo CD's Application CRD).
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

// generated lists the folders written by `kubectl atlas init`, with the exact arguments (run in
// the example's directory) that their READMEs show.
var generated = []struct {
	example string
	args    []string
}{
	{"versioned", []string{"init", "--dir", "migrations", "--name", "blog", "--with-db", "mysql", "--out", "atlas"}},
	{"declarative", []string{"init", "--schema", "schema.sql", "--name", "shop", "--with-db", "postgres", "--out", "atlas"}},
	{"argocd", []string{"init", "--dir", "../versioned/migrations", "--name", "blog", "--with-db", "mysql",
		"--with-app", "nginx:1.27-alpine", "--argocd-app", "--repo-url", "https://github.com/kubectl-atlas/kubectl-atlas.git",
		"--path", "examples/argocd/atlas", "--out", "atlas"}},
}

// serveEnv makes this test binary act as kubectl-atlas when kustomize execs it as the
// generator (through the kubectl-atlas link TestMain puts first on PATH).
const serveEnv = "KUBECTL_ATLAS_EXAMPLES_SERVE"

var env *controlplane.Env

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		err := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}).Execute()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(exitcode.Code(err))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bin, err := os.MkdirTemp("", "examples-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	if err := os.Symlink(self, filepath.Join(bin, "kubectl-atlas")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.Setenv(serveEnv, "1") // for the children only: this process has read it already

	env, err = controlplane.Start(controlplane.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	return m.Run()
}

func runPlugin(t *testing.T, args ...string) error {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		return fmt.Errorf("kubectl atlas %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return nil
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	}))
	return files
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for rel, content := range readTree(t, src) {
		p := filepath.Join(dst, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// TestGeneratedFilesAreCurrent regenerates every init folder (over a copy, so the demo database
// password is kept as init keeps it) and wants no diff.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	for _, g := range generated {
		t.Run(g.example, func(t *testing.T) {
			dir := filepath.Join(root, g.example)
			readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
			require.NoError(t, err)
			assert.Contains(t, strings.Join(strings.Fields(strings.ReplaceAll(string(readme), "\\\n", " ")), " "),
				"kubectl atlas "+strings.Join(g.args, " "), "the README shows the command that generated the folder")

			out := filepath.Join(t.TempDir(), "atlas")
			copyTree(t, filepath.Join(dir, "atlas"), out)
			args := append([]string{}, g.args...)
			args[len(args)-1] = out
			t.Chdir(dir)
			require.NoError(t, runPlugin(t, append(args, "--force")...))
			committed, fresh := readTree(t, filepath.Join(dir, "atlas")), readTree(t, out)
			assert.ElementsMatch(t, keys(committed), keys(fresh), "files of examples/%s/atlas", g.example)
			for name, content := range fresh {
				assert.Equal(t, content, committed[name],
					"examples/%s/atlas/%s is stale: run the README's command in examples/%s with --force and commit", g.example, name, g.example)
			}
		})
	}
	t.Run("kustomize-generator", func(t *testing.T) {
		base := filepath.Join(root, "kustomize-generator", "base")
		b, err := os.ReadFile(filepath.Join(base, "kustomizeconfig.yaml"))
		require.NoError(t, err)
		assert.Equal(t, string(scaffold.NameReferenceConfig()), string(b), "run `kubectl atlas kustomize-fn --print-config > kustomizeconfig.yaml`")
		assert.Equal(t, readTree(t, filepath.Join(root, "versioned", "migrations")), readTree(t, filepath.Join(base, "migrations")),
			"the generator example packs the same migrations as the versioned one")
	})
}

func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = ktypes.EnabledPluginConfig(ktypes.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build --enable-alpha-plugins --enable-exec %s", dir)
	var out []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		m, err := r.Map()
		require.NoError(t, err)
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	require.NotEmpty(t, out)
	return out
}

type dryRunner struct {
	mapper meta.ResettableRESTMapper
	dyn    dynamic.Interface
	ns     map[string]bool
}

func newDryRunner(t *testing.T) *dryRunner {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(env.Config)
	require.NoError(t, err)
	return &dryRunner{mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dyn: dyn, ns: map[string]bool{}}
}

// apply server-side applies obj with dryRun=All and strict field validation: the API server
// checks it against the CRD schemas (unknown or misspelled fields fail) and stores nothing.
func (d *dryRunner) apply(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	gvk := obj.GroupVersionKind()
	mapping, err := d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(t, err, "%s %s: kind not served", gvk, obj.GetName())
	var ri dynamic.ResourceInterface = d.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		d.ensureNamespace(t, ns)
		ri = d.dyn.Resource(mapping.Resource).Namespace(ns)
	}
	data, err := json.Marshal(obj.Object)
	require.NoError(t, err)
	force := true
	got, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		DryRun: []string{metav1.DryRunAll}, FieldManager: "kubectl-atlas-examples", Force: &force, FieldValidation: "Strict",
	})
	require.NoError(t, err, "server-side dry-run of %s %s", gvk.Kind, obj.GetName())
	assert.Equal(t, obj.GetName(), got.GetName())
	_, err = ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "a dry-run stores nothing")
}

var schemaNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

func (d *dryRunner) ensureNamespace(t *testing.T, ns string) {
	if d.ns[ns] {
		return
	}
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	_, err := d.dyn.Resource(schemaNamespaces).Create(context.Background(), nsObj, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	d.ns[ns] = true
}

// installApplicationCRD loads Argo CD's own Application CRD from its module (the version the
// health-check tests run against) into the control plane.
func installApplicationCRD(t *testing.T) {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", argoCDModule)
	out, err := cmd.Output()
	require.NoError(t, err, "go mod download %s", argoCDModule)
	var mod struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &mod))
	require.Empty(t, mod.Error)
	_, err = envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(mod.Dir, "manifests", "crds", "application-crd.yaml")}, ErrorIfPathMissing: true,
	})
	require.NoError(t, err)
}

const argoCDModule = "github.com/argoproj/argo-cd/v3@v3.5.1"

// argocdInstall stands in for the kustomization that installs Argo CD: its argocd-cm, with the
// example's health-check Component included as the README says.
const argocdInstall = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
- argocd-cm.yaml
components:
- %s
`

func TestExamplesBuildAndDryRun(t *testing.T) {
	installApplicationCRD(t)
	d := newDryRunner(t)
	root, err := filepath.Abs(".")
	require.NoError(t, err)

	for _, dir := range []string{"versioned/atlas", "declarative/atlas", "argocd/atlas", "kustomize-generator/base", "kustomize-generator/overlays/staging"} {
		t.Run(dir, func(t *testing.T) {
			objs := kustomizeBuild(t, filepath.Join(root, dir))
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
				d.apply(t, o)
			}
			assert.Equal(t, 1, kinds["AtlasMigration"]+kinds["AtlasSchema"], "one Atlas resource in %v", kinds)
			for _, o := range objs {
				if o.GetKind() != "AtlasMigration" {
					continue
				}
				ref, _, _ := unstructured.NestedString(o.Object, "spec", "dir", "configMapRef", "name")
				var cms []string
				for _, c := range objs {
					if c.GetKind() == "ConfigMap" {
						cms = append(cms, c.GetName())
					}
				}
				assert.Contains(t, cms, ref, "the AtlasMigration reads a ConfigMap of the same build")
			}
		})
	}

	t.Run("argocd/atlas/argocd/application.yaml", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(root, "argocd", "atlas", "argocd", "application.yaml"))
		require.NoError(t, err)
		app := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(b, &app.Object))
		d.mapper.Reset()
		d.apply(t, app)
	})

	t.Run("argocd/atlas/argocd component on argocd-cm", func(t *testing.T) {
		install := t.TempDir()
		rel, err := filepath.Rel(install, filepath.Join(root, "argocd", "atlas", "argocd"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(install, "kustomization.yaml"), []byte(fmt.Sprintf(argocdInstall, filepath.ToSlash(rel))), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(install, "argocd-cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  timeout.reconciliation: 180s\n"), 0o644))
		objs := kustomizeBuild(t, install)
		require.Len(t, objs, 1)
		cm := objs[0]
		data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
		assert.Equal(t, "180s", data["timeout.reconciliation"], "the patch keeps the install's settings")
		assert.Contains(t, data, "resource.customizations.health.db.atlasgo.io_AtlasMigration")
		assert.Contains(t, data, "resource.customizations.health.db.atlasgo.io_AtlasSchema")
		d.apply(t, cm)
	})
}
