package healthcheck

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// hookFinalizer is the finalizer Argo CD puts on hooks; a hook being deleted keeps its health.
const hookFinalizer = "argocd.argoproj.io/hook-finalizer"

// Get is the one health entry point, shaped like gitops-engine's GetResourceHealth: it judges
// an object as Argo CD's application controller does. Every kind of the group is judged by the
// project's scripts (Judge; the generic script for kinds without one of their own), Argo CD's
// built-in kinds by its built-in rules (builtin.go), and any other kind has no health check
// (hasCheck false). An object being deleted is Progressing with the finalizers it waits for:
// the scripts answer so, and Get says the same for other kinds (PendingDeletionMessage).
func Get(obj *unstructured.Unstructured) (res Result, hasCheck bool) {
	gvk := obj.GroupVersionKind()
	if gvk.Group == atlas.Group {
		return Judge(obj), true
	}
	if obj.GetDeletionTimestamp() != nil && !slices.Contains(obj.GetFinalizers(), hookFinalizer) {
		return Result{Status: Progressing, Message: PendingDeletionMessage(obj.GetFinalizers())}, true
	}
	check := builtinFor(gvk)
	if check == nil {
		return Result{}, false
	}
	res = check(obj)
	res.Message = redact.String(res.Message)
	return res, true
}

// PendingDeletionMessage is the scripts' message for an object being deleted (lib.lua
// pending_deletion), in the words of Argo CD's own scripts since they answer deleting objects.
func PendingDeletionMessage(finalizers []string) string {
	if len(finalizers) == 0 {
		return "Pending deletion"
	}
	return "Pending deletion; blocked by finalizers: " + strings.Join(finalizers, ", ")
}
