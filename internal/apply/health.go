package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// hookFinalizer is the finalizer Argo CD puts on hooks; a hook being deleted keeps its health.
const hookFinalizer = "argocd.argoproj.io/hook-finalizer"

// Health judges an object as Argo CD's application controller does (gitops-engine's
// GetResourceHealth): an object being deleted is Progressing, Atlas kinds are judged by the
// project's script, Argo CD's built-in kinds by its built-in rules (builtin.go), and any other
// kind has no health check (hasCheck false: done at once).
func Health(obj *unstructured.Unstructured) (res healthcheck.Result, hasCheck bool) {
	if obj.GetDeletionTimestamp() != nil && !contains(obj.GetFinalizers(), hookFinalizer) {
		return healthcheck.Result{Status: healthcheck.Progressing, Message: "Pending deletion"}, true
	}
	gvk := obj.GroupVersionKind()
	if gvk.Group == atlas.Group {
		return healthcheck.Judge(obj), true
	}
	check := builtinFor(gvk)
	if check == nil {
		return healthcheck.Result{}, false
	}
	res = check(obj)
	res.Message = redact.String(res.Message)
	return res, true
}
