package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Application is the part of an Argo CD Application's status the journeys read (Argo CD's own
// types live in a module with k8s 0.36; this one stays on the plugin's).
type Application struct {
	Name   string
	Status struct {
		Sync struct {
			Status   string `json:"status"`
			Revision string `json:"revision"`
		} `json:"sync"`
		Health struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"health"`
		Resources      []ResourceStatus `json:"resources"`
		OperationState *OperationState  `json:"operationState"`
		Conditions     []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"conditions"`
		ReconciledAt string `json:"reconciledAt"`
	} `json:"status"`
	// Raw is the whole object as JSON (for "no secret anywhere in the status" checks).
	Raw string
}

// OperationState is .status.operationState.
type OperationState struct {
	Phase      string `json:"phase"`
	Message    string `json:"message"`
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
	SyncResult *struct {
		Revision  string           `json:"revision"`
		Resources []ResourceResult `json:"resources"`
	} `json:"syncResult"`
}

// ResourceStatus is one entry of .status.resources.
type ResourceStatus struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	SyncWave  int64  `json:"syncWave"`
	Health    *struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"health"`
}

// ResourceResult is one entry of .status.operationState.syncResult.resources: the order is the
// order in which the sync applied them (gitops-engine numbers results as they are added).
type ResourceResult struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	HookPhase string `json:"hookPhase"`
	SyncPhase string `json:"syncPhase"`
}

// Resource finds the status entry of kind/name.
func (app *Application) Resource(kind, name string) *ResourceStatus {
	for i, r := range app.Status.Resources {
		if r.Kind == kind && r.Name == name {
			return &app.Status.Resources[i]
		}
	}
	return nil
}

// Applied lists kind/name of the last operation's results in the order they were applied.
func (app *Application) Applied() []string {
	var out []string
	if op := app.Status.OperationState; op != nil && op.SyncResult != nil {
		for _, r := range op.SyncResult.Resources {
			out = append(out, r.Kind+"/"+r.Name)
		}
	}
	return out
}

// Result is the last operation's result of kind/name.
func (app *Application) Result(kind, name string) *ResourceResult {
	if op := app.Status.OperationState; op != nil && op.SyncResult != nil {
		for i, r := range op.SyncResult.Resources {
			if r.Kind == kind && r.Name == name {
				return &op.SyncResult.Resources[i]
			}
		}
	}
	return nil
}

// Summary is one line for logs and failure messages.
func (app *Application) Summary() string {
	s := fmt.Sprintf("%s: sync %s (%.7s), health %s", app.Name, app.Status.Sync.Status, app.Status.Sync.Revision, app.Status.Health.Status)
	if op := app.Status.OperationState; op != nil {
		s += fmt.Sprintf(", operation %s %q", op.Phase, op.Message)
	}
	for _, r := range app.Status.Resources {
		h := ""
		if r.Health != nil {
			h = " " + r.Health.Status
			if r.Health.Message != "" {
				h += fmt.Sprintf(" %q", r.Health.Message)
			}
		}
		s += fmt.Sprintf("\n  %s/%s wave %d %s%s", r.Kind, r.Name, r.SyncWave, r.Status, h)
	}
	for _, c := range app.Status.Conditions {
		s += fmt.Sprintf("\n  condition %s: %s", c.Type, c.Message)
	}
	return s
}

// GetApplication reads the Application name from argocd.
func (a *ArgoCD) GetApplication(ctx context.Context, name string) (*Application, error) {
	u, err := a.Dyn.Resource(ApplicationGVR).Namespace(Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	app := &Application{Name: name, Raw: string(raw)}
	return app, json.Unmarshal(raw, app)
}

// WaitApplication polls the Application until done says it is there, and returns it. The limit
// is a hang guard only (a busy machine is slow, not wrong); the error shows the last state and
// whether Argo CD's processes still run.
func (a *ArgoCD) WaitApplication(ctx context.Context, name, what string, limit time.Duration, done func(*Application) bool) (*Application, error) {
	deadline := time.Now().Add(limit)
	var last *Application
	var lastErr error
	for {
		app, err := a.GetApplication(ctx, name)
		if err == nil {
			last = app
			if done(app) {
				return app, nil
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) || a.Alive() != nil {
			state := "no Application"
			if last != nil {
				state = last.Summary()
			}
			return last, fmt.Errorf("Application %s: %s: not reached within %s (hang guard); last state: %s (last error: %v)\n%v",
				name, what, limit, state, lastErr, a.Alive())
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Refresh asks Argo CD to compare the Application with git now, as a webhook from the git host
// does (the annotation argocd.argoproj.io/refresh=normal; the controller removes it).
func (a *ArgoCD) Refresh(ctx context.Context, name string) error {
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`)
	_, err := a.Dyn.Resource(ApplicationGVR).Namespace(Namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// DeleteApplication deletes an Application without cascading (its resources stay; the
// namespaces of a journey are dropped with the control plane).
func (a *ArgoCD) DeleteApplication(ctx context.Context, name string) error {
	err := a.Dyn.Resource(ApplicationGVR).Namespace(Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// playGarbageCollector does the one part of kube-controller-manager's garbage collector that
// prune needs: Argo CD deletes with foreground propagation, so the deleted object keeps the
// foregroundDeletion finalizer until the collector has deleted its dependents. The objects the
// journeys prune (ConfigMaps, Atlas resources, Deployments) have none here (no ReplicaSets
// without a controller-manager), so it removes that finalizer from objects Argo CD manages (they
// carry its tracking-id annotation) once they are being deleted, as the collector would once no
// dependent is left. Nothing else is touched.
func (a *ArgoCD) playGarbageCollector(ctx context.Context) {
	gvrs := []schema.GroupVersionResource{
		{Version: "v1", Resource: "configmaps"},
		{Version: "v1", Resource: "secrets"},
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Group: "db.atlasgo.io", Version: "v1alpha1", Resource: "atlasmigrations"},
		{Group: "db.atlasgo.io", Version: "v1alpha1", Resource: "atlasschemas"},
	}
	for {
		for _, gvr := range gvrs {
			list, err := a.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range list.Items {
				a.finishForegroundDeletion(ctx, gvr, &list.Items[i])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (a *ArgoCD) finishForegroundDeletion(ctx context.Context, gvr schema.GroupVersionResource, u *unstructured.Unstructured) {
	if u.GetDeletionTimestamp() == nil || u.GetAnnotations()["argocd.argoproj.io/tracking-id"] == "" {
		return
	}
	var keep []string
	found := false
	for _, f := range u.GetFinalizers() {
		if f == metav1.FinalizerDeleteDependents {
			found = true
			continue
		}
		keep = append(keep, f)
	}
	if !found {
		return
	}
	// A JSON patch with a test on the resourceVersion: never drop a finalizer added meanwhile.
	fin, _ := json.Marshal(keep)
	if keep == nil {
		fin = []byte("[]")
	}
	patch := fmt.Sprintf(`[{"op":"test","path":"/metadata/resourceVersion","value":%q},{"op":"replace","path":"/metadata/finalizers","value":%s}]`,
		u.GetResourceVersion(), fin)
	// Errors (gone meanwhile, changed meanwhile) are retried on the next round, as the collector does.
	_, _ = a.Dyn.Resource(gvr).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
}
