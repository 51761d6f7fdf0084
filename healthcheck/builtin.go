package healthcheck

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The rules below follow the built-in checks of gitops-engine's pkg/health (Argo CD v3.5.1) and
// the two scripts Argo CD ships for built-in kinds (CronJob, CustomResourceDefinition):
// the same statuses, the same messages, the same versions. gitops-engine itself cannot be a
// dependency (it needs k8s 0.36); healthcheck/argocdtest proves the two agree over a corpus.

// builtinCheck is one kind's rule.
type builtinCheck func(obj *unstructured.Unstructured) Result

// builtinFor picks the rule for an apiVersion and kind, as gitops-engine's GetHealthCheckFunc;
// nil: Argo CD has no health check for the kind.
func builtinFor(gvk schema.GroupVersionKind) builtinCheck {
	switch gvk.Group + "/" + gvk.Kind {
	case "apps/Deployment":
		return typed(gvk, appsv1.SchemeGroupVersion, "Deployment", deploymentHealth)
	case "apps/StatefulSet":
		return typed(gvk, appsv1.SchemeGroupVersion, "StatefulSet", statefulSetHealth)
	case "apps/ReplicaSet":
		return typed(gvk, appsv1.SchemeGroupVersion, "ReplicaSet", replicaSetHealth)
	case "apps/DaemonSet":
		return typed(gvk, appsv1.SchemeGroupVersion, "DaemonSet", daemonSetHealth)
	case "extensions/Ingress", "networking.k8s.io/Ingress":
		return ingressHealth
	case "apiregistration.k8s.io/APIService":
		return apiServiceHealth
	case "/Service":
		return typed(gvk, corev1.SchemeGroupVersion, "Service", serviceHealth)
	case "/PersistentVolumeClaim":
		return typed(gvk, corev1.SchemeGroupVersion, "PersistentVolumeClaim", pvcHealth)
	case "/Pod":
		return typed(gvk, corev1.SchemeGroupVersion, "Pod", podHealth)
	case "batch/Job":
		return typed(gvk, batchv1.SchemeGroupVersion, "Job", jobHealth)
	case "autoscaling/HorizontalPodAutoscaler":
		return hpaHealth
	// Argo CD ships these two as Lua scripts (resource_customizations), which run before
	// gitops-engine's checks; any version.
	case "batch/CronJob":
		return cronJobHealth
	case "apiextensions.k8s.io/CustomResourceDefinition":
		return crdHealth
	}
	return nil
}

func unknown(msg string) Result { return Result{Status: Unknown, Message: msg} }

// typed converts the object to its k8s.io/api type and runs the rule; only the one version
// Argo CD reads is judged, others are Unknown.
func typed[T any](gvk schema.GroupVersionKind, gv schema.GroupVersion, kind string, rule func(*T) Result) builtinCheck {
	return func(obj *unstructured.Unstructured) Result {
		if gvk != gv.WithKind(kind) {
			return unknown(fmt.Sprintf("unsupported %s GVK: %s", kind, gvk))
		}
		var v T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &v); err != nil {
			return unknown(fmt.Sprintf("failed to convert unstructured %s to typed: %v", kind, err))
		}
		return rule(&v)
	}
}

func progressing(format string, args ...any) Result {
	return Result{Status: Progressing, Message: fmt.Sprintf(format, args...)}
}

func deploymentHealth(d *appsv1.Deployment) Result {
	if d.Spec.Paused {
		return Result{Status: Suspended, Message: "Deployment is paused"}
	}
	st := d.Status
	if d.Generation > st.ObservedGeneration {
		return progressing("Waiting for rollout to finish: observed deployment generation less than desired generation")
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing {
			if c.Reason == "ProgressDeadlineExceeded" {
				return Result{Status: Degraded, Message: fmt.Sprintf("Deployment %q exceeded its progress deadline", d.Name)}
			}
			break // only the first Progressing condition counts
		}
	}
	switch {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return progressing("Waiting for rollout to finish: %d out of %d new replicas have been updated...", st.UpdatedReplicas, *d.Spec.Replicas)
	case st.Replicas > st.UpdatedReplicas:
		return progressing("Waiting for rollout to finish: %d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return progressing("Waiting for rollout to finish: %d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas)
	}
	return Result{Status: Healthy}
}

func statefulSetHealth(s *appsv1.StatefulSet) Result {
	st := s.Status
	if st.ObservedGeneration == 0 || s.Generation > st.ObservedGeneration {
		return progressing("Waiting for statefulset spec update to be observed...")
	}
	want := s.Spec.Replicas
	if want != nil && st.ReadyReplicas < *want {
		return progressing("Waiting for %d pods to be ready...", *want-st.ReadyReplicas)
	}
	strategy := s.Spec.UpdateStrategy
	if strategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && strategy.RollingUpdate != nil {
		if p := strategy.RollingUpdate.Partition; want != nil && p != nil && st.UpdatedReplicas < *want-*p {
			return progressing("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, *want-*p)
		}
		return Result{Status: Healthy, Message: fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas)}
	}
	if strategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return Result{Status: Healthy, Message: fmt.Sprintf("statefulset has %d ready pods", st.ReadyReplicas)}
	}
	if st.UpdateRevision != st.CurrentRevision {
		return progressing("waiting for statefulset rolling update to complete %d pods at revision %s...", st.UpdatedReplicas, st.UpdateRevision)
	}
	return Result{Status: Healthy, Message: fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision)}
}

func daemonSetHealth(d *appsv1.DaemonSet) Result {
	st := d.Status
	switch {
	case d.Generation > st.ObservedGeneration:
		return progressing("Waiting for rollout to finish: observed daemon set generation less than desired generation")
	case d.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		return Result{Status: Healthy, Message: fmt.Sprintf("daemon set %d out of %d new pods have been updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)}
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return progressing("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", d.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return progressing("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", d.Name, st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return Result{Status: Healthy}
}

func replicaSetHealth(r *appsv1.ReplicaSet) Result {
	st := r.Status
	if r.Generation > st.ObservedGeneration {
		return progressing("Waiting for rollout to finish: observed replica set generation less than desired generation")
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			if c.Status == corev1.ConditionTrue {
				return Result{Status: Degraded, Message: c.Message}
			}
			break
		}
	}
	if r.Spec.Replicas != nil && st.AvailableReplicas < *r.Spec.Replicas {
		return progressing("Waiting for rollout to finish: %d out of %d new replicas are available...", st.AvailableReplicas, *r.Spec.Replicas)
	}
	return Result{Status: Healthy}
}

// jobHealth: a Job is settled once it has a Failed, Complete or SuspendTrue condition (any
// status); the last condition of each type supplies the message.
func jobHealth(j *batchv1.Job) Result {
	var failed, done, suspended bool
	var failMsg, msg string
	for _, c := range j.Status.Conditions {
		switch c.Type {
		case batchv1.JobFailed:
			failed, done, failMsg = true, true, c.Message
		case batchv1.JobComplete:
			done, msg = true, c.Message
		case batchv1.JobSuspended:
			done, msg = true, c.Message
			suspended = suspended || c.Status == corev1.ConditionTrue
		}
	}
	switch {
	case !done:
		return Result{Status: Progressing, Message: msg}
	case failed:
		return Result{Status: Degraded, Message: failMsg}
	case suspended:
		return Result{Status: Suspended, Message: failMsg} // Argo CD's message, empty unless Failed
	}
	return Result{Status: Healthy, Message: msg}
}

func podHealth(p *corev1.Pod) Result {
	msg := p.Status.Message
	always := p.Spec.RestartPolicy == corev1.RestartPolicyAlways
	if always {
		// A container stuck in an error or back-off state; not for run-once pods, which are
		// usually hooks that may still recover.
		var errs []string
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (strings.HasPrefix(w.Reason, "Err") || strings.HasSuffix(w.Reason, "Error") || strings.HasSuffix(w.Reason, "BackOff")) {
				errs = append(errs, w.Message)
			}
		}
		if errs != nil {
			return Result{Status: Degraded, Message: strings.Join(errs, ", ")}
		}
	}
	switch p.Status.Phase {
	case corev1.PodPending:
		return Result{Status: Progressing, Message: msg}
	case corev1.PodSucceeded:
		return Result{Status: Healthy, Message: msg}
	case corev1.PodFailed:
		if msg != "" {
			return Result{Status: Degraded, Message: msg}
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if m := terminatedMessage(cs); m != "" {
				return Result{Status: Degraded, Message: m}
			}
		}
		return Result{Status: Degraded}
	case corev1.PodRunning:
		switch {
		case always && podReady(p):
			return Result{Status: Healthy, Message: msg}
		case always:
			for _, cs := range p.Status.ContainerStatuses {
				if cs.LastTerminationState.Terminated != nil {
					return Result{Status: Degraded, Message: msg}
				}
			}
			return Result{Status: Progressing, Message: msg}
		case p.Spec.RestartPolicy == corev1.RestartPolicyOnFailure || p.Spec.RestartPolicy == corev1.RestartPolicyNever:
			return Result{Status: Progressing, Message: msg}
		}
	}
	return Result{Status: Unknown, Message: msg}
}

func terminatedMessage(cs corev1.ContainerStatus) string {
	t := cs.State.Terminated
	switch {
	case t == nil:
		return ""
	case t.Message != "":
		return t.Message
	case t.Reason == "OOMKilled":
		return t.Reason
	case t.ExitCode != 0:
		return fmt.Sprintf("container %q failed with exit code %d", cs.Name, t.ExitCode)
	}
	return ""
}

// podReady: the first Ready condition is True (kubectl's podutils rule).
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func pvcHealth(p *corev1.PersistentVolumeClaim) Result {
	switch p.Status.Phase {
	case corev1.ClaimLost:
		return Result{Status: Degraded}
	case corev1.ClaimPending:
		return Result{Status: Progressing}
	case corev1.ClaimBound:
		return Result{Status: Healthy}
	}
	return Result{Status: Unknown}
}

// serviceHealth: only a LoadBalancer waits, until it has an ingress address.
func serviceHealth(s *corev1.Service) Result {
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
		return Result{Status: Progressing}
	}
	return Result{Status: Healthy}
}

// ingressHealth: any apiVersion; healthy once the load balancer reports an address.
func ingressHealth(obj *unstructured.Unstructured) Result {
	if lb, _, _ := unstructured.NestedSlice(obj.Object, "status", "loadBalancer", "ingress"); len(lb) > 0 {
		return Result{Status: Healthy}
	}
	return Result{Status: Progressing}
}

// apiServiceHealth reads the Available condition (v1 and v1beta1 have the same shape).
func apiServiceHealth(obj *unstructured.Unstructured) Result {
	gvk := obj.GroupVersionKind()
	if gvk.Version != "v1" && gvk.Version != "v1beta1" {
		return unknown(fmt.Sprintf("unsupported APIService GVK: %s", gvk))
	}
	var svc struct {
		Status struct {
			Conditions []struct {
				Type    string `json:"type"`
				Status  string `json:"status"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &svc); err != nil {
		return unknown(fmt.Sprintf("failed to convert unstructured APIService to typed: %v", err))
	}
	for _, c := range svc.Status.Conditions {
		if c.Type == "Available" {
			st := Progressing
			if c.Status == "True" {
				st = Healthy
			}
			return Result{Status: st, Message: c.Reason + ": " + c.Message}
		}
	}
	return progressing("Waiting to be processed")
}

// hpaCondition is an HPA condition as v2 status or the v1 conditions annotation holds it.
type hpaCondition struct{ Type, Reason, Message, Status string }

var hpaWaiting = Result{Status: Progressing, Message: "Waiting to Autoscale"}

func hpaHealth(obj *unstructured.Unstructured) Result {
	gvk := obj.GroupVersionKind()
	var conds []hpaCondition
	switch gvk {
	case autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"):
		ann, ok := obj.GetAnnotations()["autoscaling.alpha.kubernetes.io/conditions"]
		if !ok {
			return hpaWaiting
		}
		if err := json.Unmarshal([]byte(ann), &conds); err != nil {
			return unknown(fmt.Sprintf("failed to convert conditions annotation to typed: %v", err))
		}
	case autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"):
		var hpa autoscalingv2.HorizontalPodAutoscaler
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &hpa); err != nil {
			return unknown(fmt.Sprintf("failed to convert unstructured HPA to typed: %v", err))
		}
		for _, c := range hpa.Status.Conditions {
			conds = append(conds, hpaCondition{Type: string(c.Type), Reason: c.Reason, Message: c.Message, Status: string(c.Status)})
		}
	default:
		return unknown(fmt.Sprintf("unsupported HPA GVK: %s", gvk))
	}
	for _, c := range conds {
		if hpaFailure[c.Type+"/"+c.Reason] {
			return Result{Status: Degraded, Message: c.Message}
		}
	}
	for _, c := range conds {
		if (c.Type == "AbleToScale" || c.Type == "ScalingLimited") && c.Status == "True" {
			return Result{Status: Healthy, Message: c.Message}
		}
	}
	return hpaWaiting
}

// hpaFailure are the condition type/reason pairs Argo CD reads as Degraded.
var hpaFailure = map[string]bool{
	"AbleToScale/FailedGetScale": true, "AbleToScale/FailedUpdateScale": true,
	"ScalingActive/FailedGetResourceMetric": true, "ScalingActive/FailedGetObjectMetric": true,
	"ScalingActive/FailedGetPodsMetric": true, "ScalingActive/FailedGetExternalMetric": true,
	"ScalingActive/FailedComputeMetricsReplicas": true, "ScalingActive/InvalidSelector": true,
}

// field is obj's value at path; JSON null counts as absent, as in Argo CD's Lua objects.
func field(obj map[string]any, path ...string) (any, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return v, ok && v != nil
}

// cronJobHealth: Argo CD never reports a CronJob Suspended or Progressing once it has a
// status; only a last run that did not succeed (no active job, last success before the last
// schedule) is Degraded.
func cronJobHealth(obj *unstructured.Unstructured) Result {
	if _, ok := field(obj.Object, "spec"); !ok {
		return unknown("CronJob has no spec")
	}
	if v, _ := field(obj.Object, "spec", "suspend"); v == true {
		return Result{Status: Healthy, Message: "CronJob is Suspended"}
	}
	if _, ok := field(obj.Object, "status"); !ok {
		return progressing("Waiting for CronJob")
	}
	scheduled, ok := field(obj.Object, "status", "lastScheduleTime")
	if !ok {
		return Result{Status: Healthy, Message: "CronJob has not been scheduled yet"}
	}
	succeeded, ok := field(obj.Object, "status", "lastSuccessfulTime")
	if !ok {
		return Result{Status: Healthy, Message: "The CronJob never completed successfully. It may not be healthy"}
	}
	if active, ok := field(obj.Object, "status", "active"); ok {
		if n, isList := active.([]any); isList && len(n) > 0 {
			return Result{Status: Healthy, Message: "The job is running. Its last execution may not have been successful"}
		}
	}
	a, aok := succeeded.(string)
	b, bok := scheduled.(string)
	if !aok || !bok {
		return unknown("CronJob status times are not strings")
	}
	if a < b { // RFC 3339 times in UTC compare as strings
		return Result{Status: Degraded, Message: "CronJob has not completed its last execution successfully"}
	}
	return Result{Status: Healthy, Message: "CronJob has completed its last execution successfully"}
}

// crdHealth: Established=True is Healthy; being installed or terminating is Progressing; names
// not accepted, a non-structural schema or no Established condition is Degraded.
func crdHealth(obj *unstructured.Unstructured) Result {
	if obj.GetDeletionTimestamp() != nil {
		return progressing("CRD is terminating")
	}
	if _, ok := field(obj.Object, "status"); !ok {
		return unknown("CRD has no status")
	}
	raw, _ := field(obj.Object, "status", "conditions")
	conds, _ := raw.([]any)
	if len(conds) == 0 {
		return progressing("Status conditions not found")
	}
	established := false
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, st := m["type"], m["status"]
		msg, hasMsg := m["message"].(string)
		switch {
		case typ == "Terminating" && st == "True":
			if !hasMsg {
				return unknown("CRD condition Terminating has no message")
			}
			return progressing("CRD is terminating: %s", msg)
		case typ == "NamesAccepted" && st == "False":
			if !hasMsg {
				return unknown("CRD condition NamesAccepted has no message")
			}
			return Result{Status: Degraded, Message: "CRD names have not been accepted: " + msg}
		case typ == "NonStructuralSchema" && st == "True":
			if !hasMsg {
				return unknown("CRD condition NonStructuralSchema has no message")
			}
			return Result{Status: Degraded, Message: "Schema violations found: " + msg}
		case typ == "Established" && st == "True":
			established = true
		case typ == "Established" && m["reason"] == "Installing":
			return progressing("CRD is being installed")
		}
	}
	if !established {
		return Result{Status: Degraded, Message: "CRD is not established"}
	}
	return Result{Status: Healthy, Message: "CRD is healthy"}
}
