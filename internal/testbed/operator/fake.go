package operator

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// The fake operator: how the cluster tests, the demo without atlas and the bench play the Atlas
// Operator instead of running it (Start). It writes the status subresource the way operator
// v0.7.37's api/v1alpha1 setters do (SetReconciling, SetReady, SetNotReady): Ready, Reconciling
// and Stalled together, observedGeneration everywhere, failed counted up on a failure and reset
// by Reconciling and Applied, the plan URL dropped once Applied (facts/atlas-operator.md).

// The reasons the operator writes that are not failures (api/v1alpha1/reason.go).
const (
	ReasonApplied         = "Applied"
	ReasonReconciling     = "Reconciling"
	ReasonGettingDevDB    = "GettingDevDB"
	ReasonApprovalPending = "ApprovalPending"
)

// State is what the operator records in one reconcile.
type State struct {
	// Reason is Applied (Ready), Reconciling, GettingDevDB or ApprovalPending (pending), or a
	// failure reason (Migrating, VerifyingFirstRun, ...: Stalled).
	Reason  string
	Message string
	// Version is an AtlasMigration's status.lastAppliedVersion once Applied.
	Version string
	// PlanURL is the plan waiting for approval: status.approvalUrl of an AtlasMigration,
	// status.planURL of an AtlasSchema.
	PlanURL string
	// StaleGeneration writes observedGeneration one behind metadata.generation.
	StaleGeneration bool
}

// Applied is the state after atlas applied the directory (or schema) up to version.
func Applied(version string) State { return State{Reason: ReasonApplied, Version: version} }

// Reconciling is the state while the operator works on a new generation.
var Reconciling = State{Reason: ReasonReconciling, Message: "Reconciling"}

// Failed is the state after atlas failed with message (the operator copies atlas's error).
func Failed(reason, message string) State { return State{Reason: reason, Message: message} }

// Status returns obj's status after the operator recorded s in it, at now. Fields the operator
// keeps between reconciles (observed_hash, lastAppliedVersion, ...) stay as obj has them.
func Status(obj *unstructured.Unstructured, s State, now time.Time) map[string]any {
	gen := obj.GetGeneration()
	if s.StaleGeneration {
		gen--
	}
	ready := s.Reason == ReasonApplied
	pending := s.Reason == ReasonReconciling || s.Reason == ReasonGettingDevDB || s.Reason == ReasonApprovalPending
	failure := !ready && !pending
	at := now.UTC().Format(time.RFC3339)
	cond := func(typ string, status bool, message string) map[string]any {
		st := "False"
		if status {
			st = "True"
		}
		return map[string]any{"type": typ, "status": st, "reason": s.Reason, "message": message,
			"observedGeneration": gen, "lastTransitionTime": at}
	}
	stalledMessage := ""
	if failure {
		stalledMessage = s.Message
	}
	status, _, _ := unstructured.NestedMap(obj.Object, "status")
	if status == nil {
		status = map[string]any{}
	}
	status["observedGeneration"] = gen
	status["conditions"] = []any{cond("Ready", ready, s.Message), cond("Reconciling", pending, s.Message), cond("Stalled", failure, stalledMessage)}
	if _, ok := status["observed_hash"]; !ok {
		status["observed_hash"] = "h"
	}
	failed, _ := status["failed"].(int64)
	switch {
	case failure:
		failed++
	case ready, s.Reason == ReasonReconciling:
		failed = 0
	}
	status["failed"] = failed
	// Other kinds of the group (AtlasDriftCheck, ...) get the conditions alone.
	migration, schema := obj.GetKind() == atlas.KindAtlasMigration, obj.GetKind() == atlas.KindAtlasSchema
	switch {
	case ready && migration:
		delete(status, "approvalUrl")
		status["lastAppliedVersion"] = s.Version
		status["lastApplied"] = now.Unix()
	case ready && schema:
		delete(status, "planURL")
		status["last_applied"] = now.Unix()
	case s.PlanURL != "" && migration:
		status["approvalUrl"] = s.PlanURL
	case s.PlanURL != "" && schema:
		status["planURL"] = s.PlanURL
	}
	return status
}

// Fake plays the operator through Client.
type Fake struct {
	Client dynamic.Interface
	// FieldManager of the status writes; "" is the client's default.
	FieldManager string
}

// Set records s in the status of the Atlas object kind (AtlasMigration or AtlasSchema)
// namespace/name, through the status subresource, and returns the object as written.
func (f Fake) Set(ctx context.Context, kind, namespace, name string, s State) (*unstructured.Unstructured, error) {
	k, err := atlas.ParseKind(kind)
	if err != nil {
		return nil, err
	}
	return f.SetResource(ctx, k.GVR, namespace, name, s)
}

// SetResource is Set for any resource of the group (a kind of a newer operator, such as
// AtlasDriftCheck: Ready, Reconciling and Stalled as the operator writes them for every kind).
func (f Fake) SetResource(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, s State) (*unstructured.Unstructured, error) {
	ri := f.Client.Resource(gvr).Namespace(namespace)
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	obj.Object["status"] = Status(obj, s, time.Now())
	got, err := ri.UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: f.FieldManager})
	if err != nil {
		return nil, fmt.Errorf("playing the operator on %s %s/%s: %w", gvr.Resource, namespace, name, err)
	}
	return got, nil
}
