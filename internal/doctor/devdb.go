package doctor

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// devDBName is the Deployment the operator creates for a resource's dev database
// (operator v0.7.37, internal/controller/devdb.go nameDevDB).
func devDBName(name string) string { return name + "-atlas-dev-db" }

// podWaitingFailures are container states that do not heal by waiting.
var podWaitingFailures = map[string]bool{
	"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true, "CrashLoopBackOff": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// checkDevDB says which dev database the operator uses and, when it runs one itself, how its
// Deployment and Pods are doing.
func (r *run) checkDevDB(ctx context.Context, t *spec, drv driver) {
	switch {
	case t.DevURL != "" || t.DevURLFrom.SecretKeyRef != nil:
		if t.DevDB == nil {
			return // the dev-url finding says it all
		}
	case drv == driverSQLite:
		r.add("dev-db", OK, "SQLite target: the operator uses an in-memory SQLite dev database", "")
		return
	case drv == "":
		return // the target is broken: the url finding says so
	}
	name := devDBName(r.name)
	dep, err := r.d.kube.AppsV1().Deployments(r.ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if r.reason == "GettingDevDB" {
			r.add("dev-db", Warn, fmt.Sprintf("no devURL: the operator is creating dev database Deployment %s (reason GettingDevDB), which does not exist yet", name),
				"set spec.devURL (or devURLFrom) to an empty database of the same engine you run, to skip the operator's dev database")
			return
		}
		r.add("dev-db", Info, fmt.Sprintf("no devURL: the operator starts a dev database Deployment %s (%s) when it needs one", name, drv),
			"set spec.devURL (or devURLFrom) to use a dev database you run")
		return
	case err != nil:
		r.add("dev-db", Warn, fmt.Sprintf("cannot read dev database Deployment %s: %s", name, explain(err)), "")
		return
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	image := ""
	if cs := dep.Spec.Template.Spec.Containers; len(cs) > 0 {
		image = cs[0].Image
	}
	what := fmt.Sprintf("dev database Deployment %s (image %s)", name, dash(image))
	if want == 0 {
		r.add("dev-db", Info, what+" is scaled to 0 between runs (PREWARM_DEVDB=false); the operator scales it up when it needs it", "")
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		sel = labels.SelectorFromSet(labels.Set{"app.kubernetes.io/instance": name})
	}
	pods, err := r.d.kube.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		r.add("dev-db", Warn, fmt.Sprintf("%s: cannot list its Pods: %s", what, explain(err)), "")
		return
	}
	fix := fmt.Sprintf("see `kubectl describe deployment %s -n %s` and the Events of its ReplicaSet and Pods; or set spec.devURL (devURLFrom) to an empty database you run", name, r.ns)
	if len(pods.Items) == 0 {
		r.add("dev-db", Fail, fmt.Sprintf("%s wants %d replica(s) and has no Pod (ready replicas %d): nothing runs the dev database, and the operator waits for it (\"no pods found\")", what, want, dep.Status.ReadyReplicas), fix)
		return
	}
	var states []string
	failing := false
	for _, p := range pods.Items {
		if podReady(&p) {
			r.add("dev-db", OK, fmt.Sprintf("%s: Pod %s is ready", what, p.Name), "")
			return
		}
		st := string(p.Status.Phase)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				st += ", unschedulable: " + c.Message
				failing = failing || c.Reason == corev1.PodReasonUnschedulable
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				st += fmt.Sprintf(", container %s waiting: %s %s", cs.Name, w.Reason, w.Message)
				failing = failing || podWaitingFailures[w.Reason]
			}
		}
		states = append(states, fmt.Sprintf("Pod %s %s", p.Name, st))
	}
	sev := Warn
	if failing {
		sev = Fail
	}
	r.add("dev-db", sev, fmt.Sprintf("%s has no ready Pod: %s", what, strings.Join(states, "; ")), fix)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
