// Package status is the view model of `kubectl atlas status`: what it reports about one Atlas
// resource (Record), read from the object with every string redacted and health judged by the
// project's script.
package status

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Condition is one status condition, as status -o json|yaml prints it.
type Condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

// Record is what status reports about one Atlas resource.
type Record struct {
	Kind      string             `json:"kind"`
	Namespace string             `json:"namespace"`
	Name      string             `json:"name"`
	Health    healthcheck.Result `json:"health"`
	// Reason is the Ready condition's reason (Applied, Reconciling, Migrating, ...).
	Reason             string      `json:"reason,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
	LastAppliedVersion string      `json:"lastAppliedVersion,omitempty"`
	// LastApplied is when the operator last applied successfully (RFC 3339, UTC).
	LastApplied        string `json:"lastApplied,omitempty"`
	Generation         int64  `json:"generation"`
	ObservedGeneration int64  `json:"observedGeneration"`
	Failed             int64  `json:"failed"`
	ApprovalURL        string `json:"approvalURL,omitempty"`
	PlanURL            string `json:"planURL,omitempty"`
	DeploymentURL      string `json:"deploymentURL,omitempty"`
	Created            string `json:"created"`
	// Pending lists the versions of --dir newer than lastAppliedVersion (status --dir only).
	Pending []string `json:"pending,omitempty"`

	created     time.Time
	lastApplied time.Time
}

// Age is how long ago the object was created.
func (r *Record) Age(now time.Time) time.Duration { return now.Sub(r.created) }

// LastAppliedAt is the operator's last successful apply (zero if never).
func (r *Record) LastAppliedAt() time.Time { return r.lastApplied }

// Summarize reads an Atlas object into a Record, judging health with the project's script.
// Every string from the cluster is redacted.
func Summarize(obj *unstructured.Unstructured) Record {
	r := Record{
		Kind:       obj.GetKind(),
		Namespace:  obj.GetNamespace(),
		Name:       obj.GetName(),
		Health:     healthcheck.Judge(obj),
		Generation: obj.GetGeneration(),
		created:    obj.GetCreationTimestamp().Time,
	}
	r.Created = r.created.UTC().Format(time.RFC3339)
	st, _, _ := unstructured.NestedMap(obj.Object, "status")
	str := func(key string) string {
		v, _ := st[key].(string)
		return redact.String(v)
	}
	num := func(key string) int64 {
		switch v := st[key].(type) {
		case int64:
			return v
		case float64:
			return int64(v)
		}
		return 0
	}
	r.ObservedGeneration = num("observedGeneration")
	r.Failed = num("failed")
	r.LastAppliedVersion = str("lastAppliedVersion")
	r.ApprovalURL = str("approvalUrl")
	r.DeploymentURL = str("lastDeploymentUrl")
	r.PlanURL = str("planURL")
	applied := num("lastApplied")
	if r.Kind == atlas.KindAtlasSchema {
		applied = num("last_applied")
	}
	if applied > 0 {
		r.lastApplied = time.Unix(applied, 0).UTC()
		r.LastApplied = r.lastApplied.Format(time.RFC3339)
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		s := func(k string) string { v, _ := m[k].(string); return redact.String(v) }
		cond := Condition{Type: s("type"), Status: s("status"), Reason: s("reason"), Message: s("message"), LastTransitionTime: s("lastTransitionTime")}
		switch v := m["observedGeneration"].(type) {
		case int64:
			cond.ObservedGeneration = v
		case float64:
			cond.ObservedGeneration = int64(v)
		}
		if cond.Type == "Ready" {
			r.Reason = cond.Reason
		}
		r.Conditions = append(r.Conditions, cond)
	}
	return r
}
