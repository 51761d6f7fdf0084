package argocdtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/gitops-engine/pkg/health"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	argolua "github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
)

// gen draws the fields of a generated object; every draw has a few values that sit on either
// side of each comparison gitops-engine makes.
type gen struct{ r *rand.Rand }

func (g gen) pick(vals ...any) any { return vals[g.r.IntN(len(vals))] }
func (g gen) n() int64             { return int64(g.r.IntN(4)) }
func (g gen) maybe() bool          { return g.r.IntN(2) == 0 }

// set puts v at path unless v is nil (the field is left out).
func set(obj map[string]any, v any, path ...string) {
	if v == nil {
		return
	}
	cur := obj
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
}

func (g gen) conditions(types []string, reasons []string) []any {
	var out []any
	for range g.r.IntN(3) {
		out = append(out, map[string]any{
			"type":    types[g.r.IntN(len(types))],
			"status":  g.pick("True", "False", "Unknown"),
			"reason":  reasons[g.r.IntN(len(reasons))],
			"message": g.pick("", "msg-a", "msg-b"),
		})
	}
	return out
}

func (g gen) obj(apiVersion, kind string) map[string]any {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": "x", "namespace": "default"}}
	set(o, g.pick(nil, int64(1), int64(2), int64(3)), "metadata", "generation")
	if g.r.IntN(8) == 0 {
		set(o, "2026-01-01T00:00:00Z", "metadata", "deletionTimestamp")
		if g.maybe() {
			set(o, []any{"argocd.argoproj.io/hook-finalizer"}, "metadata", "finalizers")
		}
	}
	return o
}

func (g gen) workload(apiVersion, kind string) map[string]any {
	o := g.obj(apiVersion, kind)
	set(o, g.pick(nil, g.n(), g.n()), "spec", "replicas")
	set(o, g.pick(nil, int64(1), int64(2), int64(3)), "status", "observedGeneration")
	for _, f := range []string{"replicas", "updatedReplicas", "availableReplicas", "readyReplicas", "currentReplicas"} {
		set(o, g.pick(nil, g.n()), "status", f)
	}
	switch kind {
	case "Deployment":
		set(o, g.pick(nil, true, false, false), "spec", "paused")
		set(o, g.conditions([]string{"Progressing", "Available"}, []string{"ProgressDeadlineExceeded", "NewReplicaSetAvailable"}), "status", "conditions")
	case "ReplicaSet":
		set(o, g.conditions([]string{"ReplicaFailure"}, []string{"FailedCreate"}), "status", "conditions")
	case "StatefulSet":
		strategy := g.pick(nil, "RollingUpdate", "OnDelete")
		set(o, strategy, "spec", "updateStrategy", "type")
		if strategy == "RollingUpdate" && g.maybe() {
			set(o, map[string]any{}, "spec", "updateStrategy", "rollingUpdate")
			set(o, g.pick(nil, g.n()), "spec", "updateStrategy", "rollingUpdate", "partition")
		}
		set(o, g.pick(nil, "r1", "r2"), "status", "updateRevision")
		set(o, g.pick(nil, "r1", "r2"), "status", "currentRevision")
	case "DaemonSet":
		set(o, g.pick(nil, "RollingUpdate", "OnDelete"), "spec", "updateStrategy", "type")
		for _, f := range []string{"desiredNumberScheduled", "updatedNumberScheduled", "numberAvailable"} {
			set(o, g.pick(nil, g.n()), "status", f)
		}
	}
	return o
}

func (g gen) pod() map[string]any {
	o := g.obj("v1", "Pod")
	set(o, g.pick(nil, "Always", "OnFailure", "Never"), "spec", "restartPolicy")
	set(o, g.pick(nil, "Pending", "Running", "Succeeded", "Failed", "Unknown"), "status", "phase")
	set(o, g.pick(nil, "", "pod message"), "status", "message")
	set(o, g.conditions([]string{"Ready", "PodScheduled"}, []string{""}), "status", "conditions")
	containers := func() []any {
		var out []any
		for i := range g.r.IntN(3) {
			cs := map[string]any{"name": fmt.Sprintf("c%d", i), "ready": g.maybe()}
			switch g.r.IntN(3) {
			case 0:
				set(cs, map[string]any{"reason": g.pick("ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError", "ContainerCreating"), "message": g.pick("", "w")}, "state", "waiting")
			case 1:
				set(cs, map[string]any{"exitCode": g.pick(int64(0), int64(1)), "reason": g.pick("", "OOMKilled", "Error"), "message": g.pick("", "t")}, "state", "terminated")
			}
			if g.maybe() {
				set(cs, map[string]any{"exitCode": int64(1)}, "lastState", "terminated")
			}
			out = append(out, cs)
		}
		return out
	}
	set(o, containers(), "status", "containerStatuses")
	set(o, containers(), "status", "initContainerStatuses")
	return o
}

// builtinObject generates one object of a random built-in kind (or of a version or kind Argo
// CD has no rule for).
func (g gen) builtinObject() map[string]any {
	switch g.r.IntN(15) {
	case 0:
		return g.workload("apps/v1", "Deployment")
	case 1:
		return g.workload("apps/v1", "StatefulSet")
	case 2:
		return g.workload("apps/v1", "DaemonSet")
	case 3:
		return g.workload("apps/v1", "ReplicaSet")
	case 4:
		o := g.obj("batch/v1", "Job")
		set(o, g.conditions([]string{"Complete", "Failed", "Suspended", "FailureTarget"}, []string{"", "BackoffLimitExceeded"}), "status", "conditions")
		return o
	case 5:
		return g.pod()
	case 6:
		o := g.obj("v1", "PersistentVolumeClaim")
		set(o, g.pick(nil, "Pending", "Bound", "Lost", "Other"), "status", "phase")
		return o
	case 7:
		o := g.obj("v1", "Service")
		set(o, g.pick(nil, "ClusterIP", "LoadBalancer", "NodePort"), "spec", "type")
		set(o, g.pick(nil, []any{}, []any{map[string]any{"ip": "10.0.0.1"}}), "status", "loadBalancer", "ingress")
		return o
	case 8:
		o := g.obj(g.pick("networking.k8s.io/v1", "extensions/v1beta1").(string), "Ingress")
		set(o, g.pick(nil, []any{}, []any{map[string]any{"hostname": "lb"}}), "status", "loadBalancer", "ingress")
		return o
	case 9:
		o := g.obj(g.pick("autoscaling/v2", "autoscaling/v1").(string), "HorizontalPodAutoscaler")
		conds := g.conditions([]string{"AbleToScale", "ScalingActive", "ScalingLimited"},
			[]string{"FailedGetScale", "FailedGetResourceMetric", "InvalidSelector", "ReadyForNewScale", "ValidMetricFound", "DesiredWithinRange"})
		if o["apiVersion"] == "autoscaling/v2" {
			set(o, conds, "status", "conditions")
		} else if g.r.IntN(3) > 0 {
			b, _ := json.Marshal(conds)
			set(o, g.pick(string(b), string(b), "[]", "not json"), "metadata", "annotations", "autoscaling.alpha.kubernetes.io/conditions")
		}
		return o
	case 10:
		o := g.obj(g.pick("apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1beta1").(string), "APIService")
		set(o, g.conditions([]string{"Available", "Other"}, []string{"Passed", "FailedDiscoveryCheck"}), "status", "conditions")
		return o
	case 11:
		return g.workload(g.pick("apps/v1beta2", "extensions/v1beta1").(string), g.pick("Deployment", "DaemonSet", "ReplicaSet").(string))
	case 12:
		o := g.obj(g.pick("batch/v1", "batch/v1beta1").(string), "CronJob")
		set(o, map[string]any{}, "spec")
		set(o, g.pick(nil, true, false, "true"), "spec", "suspend")
		if g.r.IntN(5) > 0 {
			set(o, map[string]any{}, "status")
			times := []any{nil, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"}
			set(o, g.pick(times...), "status", "lastScheduleTime")
			set(o, g.pick(times...), "status", "lastSuccessfulTime")
			set(o, g.pick(nil, []any{}, []any{map[string]any{"name": "j"}}), "status", "active")
		}
		return o
	case 13:
		o := g.obj("apiextensions.k8s.io/v1", "CustomResourceDefinition")
		if g.r.IntN(6) > 0 {
			set(o, map[string]any{}, "status")
			set(o, g.conditions([]string{"Established", "NamesAccepted", "NonStructuralSchema", "Terminating", "KubernetesAPIApprovalPolicyConformant"},
				[]string{"InitialNamesAccepted", "Installing", "NoConflicts"}), "status", "conditions")
		}
		return o
	}
	return g.obj(g.pick("v1", "example.com/v1").(string), g.pick("ConfigMap", "Secret", "Widget").(string))
}

// TestBuiltinHealthConformance: over a generated corpus of built-in objects in every state
// gitops-engine's pkg/health and Argo CD's shipped scripts (CronJob, CRD) distinguish,
// healthcheck.Get gives Argo CD's status and message (and has a check exactly where it has one).
func TestBuiltinHealthConformance(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(12, 351))}
	const size = 150000
	shipped := argolua.ResourceHealthOverrides(map[string]appv1.ResourceOverride{}) // resource_customizations
	seen := map[string]int{}
	for i := range size {
		obj := &unstructured.Unstructured{Object: g.builtinObject()}
		want, err := health.GetResourceHealth(obj, shipped)
		// Argo CD's Lua VM has a 1 s limit per script, which a loaded machine can hit: retry.
		for try := 0; err != nil && strings.Contains(err.Error(), "context deadline exceeded") && try < 5; try++ {
			want, err = health.GetResourceHealth(obj, shipped)
		}
		got, hasCheck := healthcheck.Get(obj)
		label := obj.GetAPIVersion() + " " + obj.GetKind()
		if want == nil {
			require.False(t, hasCheck, "%d: %s has no check in Argo CD, got %v", i, label, got)
			seen[label+" (no check)"]++
			continue
		}
		if err != nil {
			require.Equal(t, healthcheck.Unknown, got.Status, "%d: %s: Argo CD: %v", i, label, err)
		}
		require.True(t, hasCheck, "%d: %s", i, label)
		js, _ := json.Marshal(obj.Object)
		require.Equal(t, string(want.Status), string(got.Status), "%d: %s", i, js)
		if err == nil {
			require.Equal(t, want.Message, got.Message, "%d: %s", i, js)
		}
		seen[label+" "+string(want.Status)]++
	}
	var lines []string
	for k, v := range seen {
		lines = append(lines, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(lines)
	t.Logf("corpus: %d objects\n%s", size, strings.Join(lines, "\n"))
	// Every status each kind can reach in gitops-engine is in the corpus.
	for _, want := range []string{
		"apps/v1 Deployment Suspended", "apps/v1 Deployment Degraded", "apps/v1 Deployment Progressing", "apps/v1 Deployment Healthy",
		"apps/v1 StatefulSet Progressing", "apps/v1 StatefulSet Healthy", "apps/v1 DaemonSet Progressing", "apps/v1 DaemonSet Healthy",
		"apps/v1 ReplicaSet Degraded", "apps/v1 ReplicaSet Progressing", "apps/v1 ReplicaSet Healthy",
		"batch/v1 Job Progressing", "batch/v1 Job Degraded", "batch/v1 Job Suspended", "batch/v1 Job Healthy",
		"v1 Pod Progressing", "v1 Pod Degraded", "v1 Pod Healthy", "v1 Pod Unknown",
		"v1 PersistentVolumeClaim Progressing", "v1 PersistentVolumeClaim Degraded", "v1 PersistentVolumeClaim Healthy", "v1 PersistentVolumeClaim Unknown",
		"v1 Service Progressing", "v1 Service Healthy", "networking.k8s.io/v1 Ingress Progressing", "extensions/v1beta1 Ingress Healthy",
		"autoscaling/v2 HorizontalPodAutoscaler Degraded", "autoscaling/v2 HorizontalPodAutoscaler Healthy", "autoscaling/v2 HorizontalPodAutoscaler Progressing",
		"autoscaling/v1 HorizontalPodAutoscaler Degraded", "autoscaling/v1 HorizontalPodAutoscaler Healthy", "autoscaling/v1 HorizontalPodAutoscaler Progressing", "autoscaling/v1 HorizontalPodAutoscaler Unknown",
		"apiregistration.k8s.io/v1 APIService Healthy", "apiregistration.k8s.io/v1beta1 APIService Progressing",
		"apps/v1beta2 Deployment Unknown", "v1 ConfigMap (no check)",
		"batch/v1 CronJob Healthy", "batch/v1 CronJob Degraded", "batch/v1 CronJob Progressing", "batch/v1beta1 CronJob Healthy",
		"apiextensions.k8s.io/v1 CustomResourceDefinition Healthy", "apiextensions.k8s.io/v1 CustomResourceDefinition Degraded",
		"apiextensions.k8s.io/v1 CustomResourceDefinition Progressing", "apiextensions.k8s.io/v1 CustomResourceDefinition Unknown",
	} {
		assert.Positive(t, seen[want], want)
	}
}
