package healthcheck

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// hookFinalizer is the finalizer Argo CD puts on hooks; a hook being deleted keeps its health.
const hookFinalizer = "argocd.argoproj.io/hook-finalizer"

// Get is the one health entry point, shaped like gitops-engine's GetResourceHealth: it judges
// an object as Argo CD's application controller does. An object being deleted is Progressing,
// Atlas kinds are judged by the project's script (Judge), Argo CD's built-in kinds by its
// built-in rules (builtin.go), and any other kind has no health check (hasCheck false).
func Get(obj *unstructured.Unstructured) (res Result, hasCheck bool) {
	if obj.GetDeletionTimestamp() != nil && !slices.Contains(obj.GetFinalizers(), hookFinalizer) {
		return Result{Status: Progressing, Message: "Pending deletion"}, true
	}
	gvk := obj.GroupVersionKind()
	if gvk.Group == atlas.Group {
		return Judge(obj), true
	}
	check := builtinFor(gvk)
	if check == nil {
		return Result{}, false
	}
	res = check(obj)
	res.Message = redact.String(res.Message)
	return res, true
}
