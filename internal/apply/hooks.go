package apply

import (
	"strconv"
	"strings"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// Why an object takes no part in the sync (LeftOut.Reason).
const (
	// ReasonSkip: argocd.argoproj.io/hook is Skip and nothing else.
	ReasonSkip = "hook Skip"
	// ReasonPreDelete, ReasonPostDelete: deletion hooks, which Argo CD runs only when the
	// Application is deleted.
	ReasonPreDelete  = "PreDelete hook, runs only when the Application is deleted"
	ReasonPostDelete = "PostDelete hook, runs only when the Application is deleted"
	// ReasonNoPhase: a hook annotation naming no sync phase Argo CD knows (Helm's test or
	// pre-rollback hooks, a misspelt Argo CD hook); Argo CD ignores such objects silently.
	ReasonNoPhase = "hook with no sync phase, ignored"
)

// LeftOut is an object that is not applied, and why.
type LeftOut struct {
	*Object
	Reason string
}

// helmHookPhase maps the Helm hooks Argo CD honours to its phases; other Helm hooks are
// recognised as hooks but have no phase.
var helmHookPhase = map[string]string{
	"pre-install": PhasePreSync, "pre-upgrade": PhasePreSync,
	"post-install": PhasePostSync, "post-upgrade": PhasePostSync,
}

// argoHookTypes are the values of argocd.argoproj.io/hook that gitops-engine parses; any other
// value (PreDelete and PostDelete included) is dropped from the list.
var argoHookTypes = map[string]bool{PhasePreSync: true, PhaseSync: true, PhasePostSync: true, PhaseSyncFail: true, phaseSkip: true}

// csv splits an annotation at commas, trimming spaces and dropping empty and repeated items.
func csv(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item != "" && !contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hookTypes is the object's hook list: the known Argo CD hook types, or, when there are
// none, the phases of its known Helm hooks.
func hookTypes(ann map[string]string) []string {
	var types []string
	for _, t := range csv(ann[atlas.HookAnnotation]) {
		if argoHookTypes[t] {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		for _, t := range csv(ann[atlas.HelmHookAnnotation]) {
			if p, ok := helmHookPhase[t]; ok {
				types = append(types, p)
			}
		}
	}
	return types
}

// Phases decides in which sync phases an object is applied, as an Argo CD v3 sync does (the
// application controller drops deletion hooks, gitops-engine drops hooks without a phase and
// Skip): either phases (PreSync, Sync, PostSync, SyncFail; more than one for a hook listing
// several) or the reason it is left out. Unknown hook values are never an error.
func Phases(ann map[string]string) (phases []string, reason string) {
	types := hookTypes(ann)
	inSyncPhase := false
	for _, t := range types {
		inSyncPhase = inSyncPhase || t != phaseSkip
	}
	if !inSyncPhase {
		// The controller's deletion-hook test reads both annotations, whichever is present.
		switch {
		case contains(trimmed(ann[atlas.HookAnnotation]), "PreDelete") || helmHookIs(ann, "pre-delete"):
			return nil, ReasonPreDelete
		case contains(trimmed(ann[atlas.HookAnnotation]), "PostDelete") || helmHookIs(ann, "post-delete"):
			return nil, ReasonPostDelete
		}
	}
	_, argoHook := ann[atlas.HookAnnotation]
	if len(types) == 1 && types[0] == phaseSkip {
		return nil, ReasonSkip
	}
	helm, helmHook := ann[atlas.HelmHookAnnotation]
	isHook := argoHook || (helmHook && helm != "crd-install")
	if !isHook {
		return []string{PhaseSync}, ""
	}
	for _, t := range types {
		if t != phaseSkip && !contains(phases, t) {
			phases = append(phases, t)
		}
	}
	if len(phases) == 0 {
		return nil, ReasonNoPhase
	}
	return phases, ""
}

func trimmed(v string) []string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func helmHookIs(ann map[string]string, hook string) bool {
	v, ok := ann[atlas.HelmHookAnnotation]
	return ok && contains(trimmed(v), hook)
}

// Wave is an object's sync wave as gitops-engine reads it: strconv.Atoi of
// argocd.argoproj.io/sync-wave exactly as written, else of helm.sh/hook-weight, else 0. A
// value that is not an integer (" 1", "1.5", "one") is passed over, never an error.
func Wave(ann map[string]string) int {
	if v, ok := ann[atlas.SyncWaveAnnotation]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	if v, ok := ann[atlas.HelmHookWeight]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 0
}
