package argocdtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	_ "unsafe" // go:linkname, to run gitops-engine's unexported sort and phase rules

	gesync "github.com/argoproj/argo-cd/gitops-engine/pkg/sync"
	"github.com/argoproj/argo-cd/gitops-engine/pkg/sync/common"
	"github.com/argoproj/argo-cd/gitops-engine/pkg/sync/hook"
	"github.com/argoproj/argo-cd/gitops-engine/pkg/sync/syncwaves"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/apply"
)

// geTask has the field layout of gitops-engine's unexported syncTask (pkg/sync/sync_task.go at
// the pinned version), so that its own sort can be run on our tasks. TestGitOpsEngineLinked
// fails if the layout drifts.
type geTask struct {
	phase          common.SyncPhase
	liveObj        *unstructured.Unstructured
	targetObj      *unstructured.Unstructured
	skipDryRun     bool
	syncStatus     common.ResultCode
	operationState common.OperationPhase
	message        string
	waveOverride   *int
}

// gitops-engine's syncTasks.Sort: sort by phase, wave, kind, name, then move Namespaces and
// CRDs ahead of their first dependant.
//
//go:linkname geSort github.com/argoproj/argo-cd/gitops-engine/pkg/sync.syncTasks.Sort
func geSort(s []*geTask)

//go:linkname geLess github.com/argoproj/argo-cd/gitops-engine/pkg/sync.syncTasks.Less
func geLess(s []*geTask, i, j int) bool

// gitops-engine's syncPhases: in which phases an object runs.
//
//go:linkname gePhases github.com/argoproj/argo-cd/gitops-engine/pkg/sync.syncPhases
func gePhases(obj *unstructured.Unstructured) []common.SyncPhase

func (t *geTask) wave() int {
	if t.waveOverride != nil {
		return *t.waveOverride
	}
	return syncwaves.Wave(t.targetObj)
}

// Argo CD v3.5.1 controller/hook.go: deletion hooks are named by either annotation; the
// controller keeps them out of a sync unless they also name a sync phase
// (partitionTargetObjsForSync). The controller package is too heavy to link for two lines.
func argoDeletionHookOnly(obj *unstructured.Unstructured) bool {
	has := func(key, val string) bool {
		v, ok := obj.GetAnnotations()[key]
		if !ok {
			return false
		}
		for _, item := range strings.Split(v, ",") {
			if strings.TrimSpace(item) == val {
				return true
			}
		}
		return false
	}
	deletion := has(common.AnnotationKeyHook, "PreDelete") || has("helm.sh/hook", "pre-delete") ||
		has(common.AnnotationKeyHook, "PostDelete") || has("helm.sh/hook", "post-delete")
	if !deletion {
		return false
	}
	for _, t := range hook.Types(obj) {
		switch t {
		case common.HookTypePreSync, common.HookTypeSync, common.HookTypePostSync, common.HookTypeSyncFail:
			return false
		}
	}
	return true
}

type scopes map[schema.GroupKind]bool

func (s scopes) IsNamespaced(gk schema.GroupKind) (bool, error) { return s[gk], nil }

// argoOrder is what an Argo CD sync does with the objects: the controller's deletion-hook
// filter, gitops-engine's Reconcile (hooks apart, ignored objects dropped), syncPhases, and
// syncTasks.Sort. Argo CD collects tasks from a map, so objects equal in phase, wave, kind
// and name come in no fixed order; to compare, they are given in the folder's order and
// sorted stably with gitops-engine's own Less first (Sort then leaves them as they are).
func argoOrder(objs []*unstructured.Unstructured, sc scopes) []string {
	var targets []*unstructured.Unstructured
	for _, o := range objs {
		if !argoDeletionHookOnly(o) {
			targets = append(targets, o)
		}
	}
	rec := gesync.Reconcile(targets, nil, "default", sc)
	inSync := map[*unstructured.Unstructured]bool{}
	for _, o := range append(rec.Target, rec.Hooks...) {
		inSync[o] = true
	}
	var tasks []*geTask
	for _, o := range objs { // the folder's order, for ties
		if !inSync[o] {
			continue
		}
		phases := gePhases(o)
		sort.Slice(phases, func(i, j int) bool { return phases[i] < phases[j] })
		for _, p := range phases {
			tasks = append(tasks, &geTask{phase: p, targetObj: o})
		}
	}
	sort.SliceStable(tasks, func(i, j int) bool { return geLess(tasks, i, j) })
	geSort(tasks)
	var out []string
	for _, t := range tasks {
		out = append(out, taskKey(string(t.phase), t.wave(), t.targetObj))
	}
	return out
}

func taskKey(phase string, wave int, o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s/%d %s %s/%s", phase, wave, o.GroupVersionKind().GroupKind(), o.GetNamespace(), o.GetName())
}

func pluginOrder(objs []*unstructured.Unstructured) (order []string, leftOut map[string]string) {
	var in []*apply.Object
	for _, o := range objs {
		in = append(in, &apply.Object{Obj: o, Source: "corpus"})
	}
	tasks, left := apply.Tasks(in)
	apply.Sort(tasks)
	for _, t := range tasks {
		order = append(order, taskKey(t.Phase, t.Wave, t.Obj))
	}
	leftOut = map[string]string{}
	for _, l := range left {
		leftOut[taskKey("", 0, l.Obj)] = l.Reason
	}
	return order, leftOut
}

// Values the corpus draws annotations from: hook lists with known, deletion, unknown and
// repeated types, Helm hooks Argo CD maps or ignores, waves that are and are not integers.
var (
	argoHooks = []string{"", "PreSync", "Sync", "PostSync", "SyncFail", "Skip", "PreSync,Skip", "Skip,Skip",
		" PostSync , PreSync", "PreDelete", "PostDelete", "PreDelete,PostSync", "Later", "PreSync,PreSync", "Skip,Later", ","}
	helmHooks = []string{"pre-install", "post-install", "pre-upgrade", "post-upgrade", "pre-install,post-upgrade",
		"pre-delete", "post-delete", "crd-install", "crd-install,pre-install", "test", "pre-rollback", "test-success"}
	waves = []string{"0", "1", "-1", "2", "5", "-10", " 2", "2 ", "+3", "007", "1.5", "x", ""}
)

type kindSpec struct {
	apiVersion, kind string
	namespaced       bool
}

var corpusKinds = []kindSpec{
	{"v1", "Namespace", false}, {"v1", "ConfigMap", true}, {"v1", "Secret", true}, {"v1", "ServiceAccount", true},
	{"v1", "Service", true}, {"v1", "Pod", true}, {"v1", "PersistentVolumeClaim", true},
	{"apps/v1", "Deployment", true}, {"apps/v1", "StatefulSet", true}, {"batch/v1", "Job", true},
	{"batch/v1", "CronJob", true}, {"networking.k8s.io/v1", "Ingress", true},
	{"rbac.authorization.k8s.io/v1", "ClusterRole", false}, {"rbac.authorization.k8s.io/v1", "Role", true},
	{"apiextensions.k8s.io/v1", "CustomResourceDefinition", false},
	{"example.com/v1", "Widget", true}, {"example.com/v1", "Gadget", false},
	{"db.atlasgo.io/v1alpha1", "AtlasMigration", true}, {"other.io/v1", "ConfigMap", true},
}

// corpusFolder generates one folder: kinds, colliding names, a few namespaces (some created
// by the folder, some not), CRDs for the custom kinds, and random hook and wave annotations.
func corpusFolder(r *rand.Rand, size int) ([]*unstructured.Unstructured, scopes) {
	sc := scopes{}
	for _, k := range corpusKinds {
		gv, _ := schema.ParseGroupVersion(k.apiVersion)
		sc[schema.GroupKind{Group: gv.Group, Kind: k.kind}] = k.namespaced
	}
	names := []string{"a", "b", "app", "db", "z", "widgets.example.com", "gadgets.example.com", "ns1", "ns2"}
	namespaces := []string{"ns1", "ns2", "ns3", "default"}
	seen := map[string]bool{}
	var objs []*unstructured.Unstructured
	for len(objs) < size {
		k := corpusKinds[r.IntN(len(corpusKinds))]
		o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": k.apiVersion, "kind": k.kind}}
		o.SetName(names[r.IntN(len(names))])
		if k.namespaced {
			o.SetNamespace(namespaces[r.IntN(len(namespaces))])
		}
		if k.kind == "CustomResourceDefinition" {
			crd := []string{"Widget", "Gadget", "AtlasMigration"}[r.IntN(3)]
			group := map[string]string{"Widget": "example.com", "Gadget": "example.com", "AtlasMigration": "db.atlasgo.io"}[crd]
			o.SetName(strings.ToLower(crd) + "s." + group)
			o.Object["spec"] = map[string]any{"group": group, "names": map[string]any{"kind": crd}}
		}
		ann := map[string]string{}
		if r.IntN(3) == 0 {
			ann["argocd.argoproj.io/hook"] = argoHooks[r.IntN(len(argoHooks))]
		}
		if r.IntN(4) == 0 {
			ann["helm.sh/hook"] = helmHooks[r.IntN(len(helmHooks))]
		}
		if r.IntN(2) == 0 {
			ann["argocd.argoproj.io/sync-wave"] = waves[r.IntN(len(waves))]
		}
		if r.IntN(4) == 0 {
			ann["helm.sh/hook-weight"] = waves[r.IntN(len(waves))]
		}
		if len(ann) > 0 {
			o.SetAnnotations(ann)
		}
		key := o.GetAPIVersion() + o.GetKind() + o.GetNamespace() + o.GetName()
		if seen[key] {
			continue
		}
		seen[key] = true
		objs = append(objs, o)
	}
	return objs, sc
}

// TestGitOpsEngineLinked guards the linkname and layout: gitops-engine's sort and phases on a
// hand-made case give the order read from its source.
func TestGitOpsEngineLinked(t *testing.T) {
	mk := func(kind, name, ns, wave, hk string) *unstructured.Unstructured {
		o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind}}
		o.SetName(name)
		o.SetNamespace(ns)
		ann := map[string]string{"argocd.argoproj.io/sync-wave": wave}
		if hk != "" {
			ann["argocd.argoproj.io/hook"] = hk
		}
		o.SetAnnotations(ann)
		return o
	}
	objs := []*unstructured.Unstructured{
		mk("ConfigMap", "b", "shop", "1", ""), mk("Namespace", "shop", "", "9", ""),
		mk("Pod", "p", "shop", "0", "PreSync,PostSync"), mk("ConfigMap", "a", "shop", "1", ""),
	}
	assert.Equal(t, []string{
		"PreSync/0 Namespace /shop", "PreSync/0 Pod shop/p", "Sync/1 ConfigMap shop/a", "Sync/1 ConfigMap shop/b", "PostSync/0 Pod shop/p",
	}, argoOrder(objs, scopes{{Kind: "ConfigMap"}: true, {Kind: "Pod"}: true}))
}

// TestSyncOrderConformance: over a generated corpus of folders, apply's tasks (phase, wave,
// object, in order) and the objects it leaves out are exactly Argo CD's.
func TestSyncOrderConformance(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 3512))
	const folders = 3000
	objects, tasks, leftOut := 0, 0, 0
	for i := range folders {
		objs, sc := corpusFolder(r, 1+r.IntN(40))
		want := argoOrder(objs, sc)
		got, left := pluginOrder(objs)
		require.Equal(t, want, got, "folder %d", i)
		// The order already holds every synced object; the reasons must be Argo CD's too.
		for _, o := range objs {
			switch left[taskKey("", 0, o)] {
			case apply.ReasonSkip:
				require.True(t, hook.Skip(o), "folder %d: %v", i, o.GetAnnotations())
			case apply.ReasonPreDelete, apply.ReasonPostDelete:
				require.True(t, argoDeletionHookOnly(o), "folder %d: %v", i, o.GetAnnotations())
			}
		}
		objects += len(objs)
		tasks += len(want)
		leftOut += len(left)
	}
	t.Logf("corpus: %d folders, %d objects, %d tasks, %d left out", folders, objects, tasks, leftOut)
}
