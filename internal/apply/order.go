package apply

import (
	"fmt"
	"sort"
)

// Sync phases, in Argo CD's order (gitops-engine pkg/sync).
const (
	PhasePreSync  = "PreSync"
	PhaseSync     = "Sync"
	PhasePostSync = "PostSync"
	PhaseSyncFail = "SyncFail"
	phaseSkip     = "Skip"
)

var phaseOrder = map[string]int{PhasePreSync: -1, PhaseSync: 0, PhasePostSync: 1, PhaseSyncFail: 2}

// kindOrder is Argo CD's (Helm's) kind order; kinds not listed (custom resources) go last.
var kindOrder = map[string]int{}

func init() {
	kinds := []string{"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
		"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
		"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
		"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
		"RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
		"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
		"IngressClass", "Ingress", "APIService"}
	for i, k := range kinds {
		kindOrder[k] = i - len(kinds)
	}
}

// Task is one object in one phase and wave.
type Task struct {
	*Object
	Phase string
	Wave  int
}

// Tasks gives every object one task per sync phase it runs in (see Phases), in its wave
// (see Wave), and lists the objects left out of the sync with the reason.
func Tasks(objs []*Object) (tasks []*Task, leftOut []LeftOut) {
	for _, o := range objs {
		ann := o.Obj.GetAnnotations()
		phases, reason := Phases(ann)
		if reason != "" {
			leftOut = append(leftOut, LeftOut{Object: o, Reason: reason})
			continue
		}
		wave := Wave(ann)
		for _, p := range phases {
			tasks = append(tasks, &Task{Object: o, Phase: p, Wave: wave})
		}
	}
	return tasks, leftOut
}

// Sort orders tasks as Argo CD does: phase, wave, kind, name; then every Namespace is moved
// before the first task in it and every CRD before the first object of its kind, taking that
// task's phase and wave. Objects must have their namespace defaulted already.
func Sort(tasks []*Task) {
	sort.SliceStable(tasks, func(i, j int) bool {
		a, b := tasks[i], tasks[j]
		if d := phaseOrder[a.Phase] - phaseOrder[b.Phase]; d != 0 {
			return d < 0
		}
		if a.Wave != b.Wave {
			return a.Wave < b.Wave
		}
		if d := kindOrder[a.Obj.GetKind()] - kindOrder[b.Obj.GetKind()]; d != 0 {
			return d < 0
		}
		return a.Obj.GetName() < b.Obj.GetName()
	})
	adjustDeps(tasks, func(t *Task) (string, bool) {
		return t.Obj.GetName(), t.Obj.GetKind() == "Namespace" && t.Obj.GroupVersionKind().Group == ""
	}, func(t *Task) (string, bool) {
		return t.Obj.GetNamespace(), t.Obj.GetNamespace() != ""
	})
	adjustDeps(tasks, func(t *Task) (string, bool) {
		if !isCRD(t.Obj.GroupVersionKind().Group, t.Obj.GetKind()) {
			return "", false
		}
		group, _, _ := unstructuredString(t.Obj.Object, "spec", "group")
		kind, _, _ := unstructuredString(t.Obj.Object, "spec", "names", "kind")
		return group + "/" + kind, group != "" && kind != ""
	}, func(t *Task) (string, bool) {
		gvk := t.Obj.GroupVersionKind()
		return gvk.Group + "/" + gvk.Kind, true
	})
}

// adjustDeps moves each dependency before the first task that references it (gitops-engine's
// rule), giving it that task's phase and wave.
func adjustDeps(tasks []*Task, isDep, refs func(*Task) (string, bool)) {
	first := map[string]int{}
	for i := 0; i < len(tasks); i++ {
		t := tasks[i]
		if key, ok := isDep(t); ok {
			if idx, seen := first[key]; seen {
				t.Phase, t.Wave = tasks[idx].Phase, tasks[idx].Wave
				copy(tasks[idx+1:i+1], tasks[idx:i])
				tasks[idx] = t
				for k, v := range first {
					if v >= idx {
						first[k] = v + 1
					}
				}
			}
		} else if key, ok := refs(t); ok {
			if _, seen := first[key]; !seen {
				first[key] = i
			}
		}
	}
}

func isCRD(group, kind string) bool {
	return group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition"
}

func unstructuredString(obj map[string]any, path ...string) (string, bool, error) {
	cur := any(obj)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[p]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// Group is the tasks of one (phase, wave), applied together and health-gated as one.
type Group struct {
	Phase string
	Wave  int
	Tasks []*Task
}

// Name is how progress lines name the group, e.g. "wave 1" or "PreSync wave 0".
func (g *Group) Name() string {
	if g.Phase == PhaseSync {
		return fmt.Sprintf("wave %d", g.Wave)
	}
	return fmt.Sprintf("%s wave %d", g.Phase, g.Wave)
}

// Groups splits sorted tasks into consecutive (phase, wave) groups. SyncFail hooks are returned
// apart: they run only when the sync fails.
func Groups(tasks []*Task) (groups []*Group, syncFail []*Task) {
	for _, t := range tasks {
		if t.Phase == PhaseSyncFail {
			syncFail = append(syncFail, t)
			continue
		}
		if n := len(groups); n > 0 && groups[n-1].Phase == t.Phase && groups[n-1].Wave == t.Wave {
			groups[n-1].Tasks = append(groups[n-1].Tasks, t)
			continue
		}
		groups = append(groups, &Group{Phase: t.Phase, Wave: t.Wave, Tasks: []*Task{t}})
	}
	return groups, syncFail
}
