package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ids(groups []*Group) []string {
	var out []string
	for _, g := range groups {
		for _, t := range g.Tasks {
			out = append(out, g.Name()+" "+t.Obj.GetKind()+"/"+t.Obj.GetName())
		}
	}
	return out
}

func mustParse(t *testing.T, y string) []*Object {
	t.Helper()
	objs, err := Parse("test.yaml", []byte(y))
	require.NoError(t, err)
	return objs
}

func TestOrder(t *testing.T) {
	objs := mustParse(t, `
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: app, namespace: shop, annotations: {argocd.argoproj.io/sync-wave: "1"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, annotations: {argocd.argoproj.io/sync-wave: "2"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b-migrations, namespace: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a-config, namespace: shop}
---
apiVersion: batch/v1
kind: Job
metadata: {name: smoke, namespace: shop, annotations: {argocd.argoproj.io/hook: PostSync}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: backup, namespace: shop, annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: "5"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, annotations: {argocd.argoproj.io/sync-wave: "3"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: ignored, namespace: shop, annotations: {argocd.argoproj.io/hook: Skip}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: cleanup, namespace: shop, annotations: {argocd.argoproj.io/hook: SyncFail}}
`)
	tasks, leftOut := Tasks(objs)
	require.Len(t, leftOut, 1)
	assert.Equal(t, "ignored", leftOut[0].Obj.GetName())
	assert.Equal(t, ReasonSkip, leftOut[0].Reason)
	Sort(tasks)
	groups, syncFail := Groups(tasks)
	// The Namespace (wave 3) is moved before the first object in it (the PreSync hook) and
	// takes its phase and wave.
	assert.Equal(t, []string{
		"PreSync wave 5 Namespace/shop",
		"PreSync wave 5 Job/backup",
		"wave 0 Secret/db",
		"wave 0 ConfigMap/a-config",
		"wave 0 ConfigMap/b-migrations",
		"wave 1 AtlasMigration/app",
		"wave 2 Deployment/web",
		"PostSync wave 0 Job/smoke",
	}, ids(groups))
	require.Len(t, syncFail, 1)
	assert.Equal(t, "cleanup", syncFail[0].Obj.GetName())
}

func TestOrderCRDBeforeItsObjects(t *testing.T) {
	objs := mustParse(t, `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, annotations: {argocd.argoproj.io/sync-wave: "10"}}
spec: {group: example.com, names: {kind: Widget, plural: widgets}, scope: Cluster}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, annotations: {argocd.argoproj.io/sync-wave: "-1"}}
`)
	tasks, _ := Tasks(objs)
	Sort(tasks)
	groups, _ := Groups(tasks)
	assert.Equal(t, []string{"wave -1 ConfigMap/c", "wave 0 CustomResourceDefinition/widgets.example.com", "wave 0 Widget/w"}, ids(groups))
}

// TestPhasesAndWaves pins the per-object rules read from gitops-engine and Argo CD's controller;
// healthcheck/argocdtest checks them against that code over a generated corpus.
func TestPhasesAndWaves(t *testing.T) {
	for _, tc := range []struct {
		ann    map[string]string
		phases []string
		reason string
	}{
		{ann: nil, phases: []string{PhaseSync}},
		{ann: map[string]string{"argocd.argoproj.io/hook": "PreSync,Skip"}, phases: []string{PhasePreSync}},
		{ann: map[string]string{"argocd.argoproj.io/hook": " Skip ,Later"}, reason: ReasonSkip},
		{ann: map[string]string{"argocd.argoproj.io/hook": "PreSync, PostSync,PreSync"}, phases: []string{PhasePreSync, PhasePostSync}},
		{ann: map[string]string{"argocd.argoproj.io/hook": "PreDelete"}, reason: ReasonPreDelete},
		{ann: map[string]string{"argocd.argoproj.io/hook": "PostDelete"}, reason: ReasonPostDelete},
		{ann: map[string]string{"argocd.argoproj.io/hook": "PreDelete,PostSync"}, phases: []string{PhasePostSync}},
		{ann: map[string]string{"argocd.argoproj.io/hook": "Later"}, reason: ReasonNoPhase},
		{ann: map[string]string{"argocd.argoproj.io/hook": "Later", "helm.sh/hook": "post-install"}, phases: []string{PhasePostSync}},
		{ann: map[string]string{"argocd.argoproj.io/hook": "Sync", "helm.sh/hook": "pre-install"}, phases: []string{PhaseSync}},
		{ann: map[string]string{"helm.sh/hook": "pre-install,pre-upgrade"}, phases: []string{PhasePreSync}},
		{ann: map[string]string{"helm.sh/hook": "post-upgrade"}, phases: []string{PhasePostSync}},
		{ann: map[string]string{"helm.sh/hook": "pre-delete"}, reason: ReasonPreDelete},
		{ann: map[string]string{"helm.sh/hook": "test"}, reason: ReasonNoPhase},
		{ann: map[string]string{"helm.sh/hook": "crd-install"}, phases: []string{PhaseSync}},
		{ann: map[string]string{"helm.sh/hook": "crd-install,pre-install"}, phases: []string{PhasePreSync}},
	} {
		phases, reason := Phases(tc.ann)
		assert.Equal(t, tc.phases, phases, "%v", tc.ann)
		assert.Equal(t, tc.reason, reason, "%v", tc.ann)
	}
	for v, want := range map[string]int{"2": 2, "-3": -3, "+4": 4, " 2": 0, "2 ": 0, "1.5": 0, "one": 0, "": 0} {
		assert.Equal(t, want, Wave(map[string]string{"argocd.argoproj.io/sync-wave": v}), "%q", v)
	}
	assert.Equal(t, 7, Wave(map[string]string{"argocd.argoproj.io/sync-wave": "x", "helm.sh/hook-weight": "7"}))
	assert.Equal(t, 7, Wave(map[string]string{"helm.sh/hook-weight": "7"}))
	assert.Equal(t, -1, Wave(map[string]string{"argocd.argoproj.io/sync-wave": "-1", "helm.sh/hook-weight": "7"}))
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
		want          []string
	}{
		{name: "list and comments", in: "# top\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n---\n# only a comment\n---\n", want: []string{"configmap/a", "secret/b"}},
		{name: "json", in: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}`, want: []string{"configmap/j"}},
		{name: "bad yaml", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [b\n", err: "f.yaml:8: invalid YAML"},
		{name: "no kind", in: "apiVersion: v1\nmetadata: {name: a}\n", err: "f.yaml:1: the document has no apiVersion or kind"},
		{name: "no name", in: "apiVersion: v1\nkind: ConfigMap\n", err: "f.yaml:1: ConfigMap has no metadata.name"},
		{name: "generateName", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: x-}\n", err: "metadata.generateName"},
		{name: "scalar", in: "just text\n", err: "f.yaml:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse("f.yaml", []byte(tc.in))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, o := range objs {
				got = append(got, o.ID())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not yaml"), 0o644))
	objs, err := LoadFiles([]string{dir, "-"}, strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"))
	require.NoError(t, err)
	require.Len(t, objs, 3)
	assert.Equal(t, filepath.Join(dir, "a.yml")+":1", objs[0].Source)
	assert.Equal(t, "-:1", objs[2].Source)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [a.yml]\n"), 0o644))
	_, err = LoadFiles([]string{dir}, nil)
	assert.ErrorContains(t, err, "holds a kustomization: apply it with -k")
	objs, err = LoadKustomization(dir)
	require.NoError(t, err)
	require.Len(t, objs, 1)
	assert.Equal(t, "configmap/a", objs[0].ID())

	_, err = LoadFiles([]string{filepath.Join(dir, "missing.yaml")}, nil)
	assert.ErrorContains(t, err, "missing.yaml")
}

// FuzzParse: any input either parses into named objects or fails with an error naming the file.
func FuzzParse(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems: []\n")
	f.Add("---\n--- # c\n{\"apiVersion\":\"v1\"}")
	f.Add("a: [")
	f.Fuzz(func(t *testing.T, in string) {
		objs, err := Parse("f.yaml", []byte(in))
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "f.yaml:"), err.Error())
			return
		}
		for _, o := range objs {
			assert.NotEmpty(t, o.Obj.GetName())
			assert.NotEmpty(t, o.Obj.GetKind())
		}
	})
}
