package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// builtinHealth lists the kinds gitops-engine's pkg/health judges itself (by group); every
// other kind without a Lua script is "done at once" for a wave, as in Argo CD.
var builtinHealth = map[string]map[string]bool{
	"":                       {"Service": true, "PersistentVolumeClaim": true, "Pod": true},
	"apps":                   {"Deployment": true, "StatefulSet": true, "ReplicaSet": true, "DaemonSet": true},
	"batch":                  {"Job": true},
	"networking.k8s.io":      {"Ingress": true},
	"extensions":             {"Ingress": true},
	"autoscaling":            {"HorizontalPodAutoscaler": true},
	"apiregistration.k8s.io": {"APIService": true},
}

// Health judges an object as Argo CD would for a sync wave: Atlas kinds by the project's
// script, Argo CD's built-in kinds by kstatus (a close equivalent of gitops-engine's checks),
// and anything else has no health check (hasCheck false: done at once).
func Health(obj *unstructured.Unstructured) (res healthcheck.Result, hasCheck bool) {
	gvk := obj.GroupVersionKind()
	if gvk.Group == atlas.Group {
		return cluster.Health(obj), true
	}
	if !builtinHealth[gvk.Group][gvk.Kind] {
		return healthcheck.Result{}, false
	}
	if obj.GetDeletionTimestamp() != nil {
		return healthcheck.Result{Status: healthcheck.Progressing, Message: "Pending deletion"}, true
	}
	r, err := status.Compute(obj)
	if err != nil {
		return healthcheck.Result{Status: healthcheck.Unknown, Message: redact.String(err.Error())}, true
	}
	msg := redact.String(r.Message)
	switch r.Status {
	case status.CurrentStatus:
		return healthcheck.Result{Status: healthcheck.Healthy, Message: msg}, true
	case status.FailedStatus:
		return healthcheck.Result{Status: healthcheck.Degraded, Message: msg}, true
	case status.InProgressStatus, status.TerminatingStatus:
		return healthcheck.Result{Status: healthcheck.Progressing, Message: msg}, true
	case status.NotFoundStatus:
		return healthcheck.Result{Status: healthcheck.Missing, Message: msg}, true
	}
	return healthcheck.Result{Status: healthcheck.Unknown, Message: msg}, true
}
