// Package status is the view model of `kubectl atlas status`: what it reports about one Atlas
// resource (Record), read from the object with every string redacted and health judged by the
// project's script.
package status

import (
	"sort"
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

// Record is what status reports about one Atlas resource, shaped like a Kubernetes object so
// kubectl's printers and queries work on it: the resource's apiVersion, kind and metadata, and
// the verdict in status (`{.status.health}`). It is a summary, not the object: `kubectl get`
// shows the object itself. docs/cluster.md documents the fields.
type Record struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Metadata   Meta    `json:"metadata"`
	Status     Summary `json:"status"`

	created     time.Time
	lastApplied time.Time
}

// Meta is the resource's identity.
type Meta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// CreationTimestamp is RFC 3339, UTC.
	CreationTimestamp string `json:"creationTimestamp"`
	Generation        int64  `json:"generation"`
}

// Summary is the verdict and what the operator reported.
type Summary struct {
	// Health is the project's health check's verdict (what Argo CD shows), Message its message.
	Health  healthcheck.HealthStatus `json:"health"`
	Message string                   `json:"message,omitempty"`
	// Reason is the Ready condition's reason (Applied, Reconciling, Migrating, ...).
	Reason             string      `json:"reason,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
	LastAppliedVersion string      `json:"lastAppliedVersion,omitempty"`
	// LastApplied is when the operator last applied successfully (RFC 3339, UTC).
	LastApplied        string `json:"lastApplied,omitempty"`
	ObservedGeneration int64  `json:"observedGeneration"`
	Failed             int64  `json:"failed"`
	ApprovalURL        string `json:"approvalURL,omitempty"`
	PlanURL            string `json:"planURL,omitempty"`
	DeploymentURL      string `json:"deploymentURL,omitempty"`
	// Pending lists the versions of --dir newer than lastAppliedVersion (status --dir only).
	Pending []string `json:"pending,omitempty"`
	// Deleted is set by status --watch when the resource was deleted (health keeps its last value).
	Deleted bool `json:"deleted,omitempty"`
}

// Age is how long ago the object was created.
func (r *Record) Age(now time.Time) time.Duration { return now.Sub(r.created) }

// LastAppliedAt is the operator's last successful apply (zero if never).
func (r *Record) LastAppliedAt() time.Time { return r.lastApplied }

// Key identifies the resource within a listing: namespace, kind and name.
func (r *Record) Key() string { return r.Metadata.Namespace + "/" + r.Kind + "/" + r.Metadata.Name }

// ReadyMessage is the health message, or else the Ready condition's.
func (r *Record) ReadyMessage() string {
	if r.Status.Message != "" {
		return r.Status.Message
	}
	for _, c := range r.Status.Conditions {
		if c.Type == "Ready" {
			return c.Message
		}
	}
	return ""
}

// Sort orders records by namespace, kind and name.
func Sort(recs []Record) {
	sort.Slice(recs, func(i, j int) bool {
		a, b := &recs[i], &recs[j]
		if a.Metadata.Namespace != b.Metadata.Namespace {
			return a.Metadata.Namespace < b.Metadata.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Metadata.Name < b.Metadata.Name
	})
}

// Summarize reads an Atlas object into a Record, judging health with the project's script.
// Every string from the cluster is redacted.
func Summarize(obj *unstructured.Unstructured) Record {
	h, _ := healthcheck.Get(obj)
	r := Record{
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Metadata:   Meta{Name: obj.GetName(), Namespace: obj.GetNamespace(), Generation: obj.GetGeneration()},
		created:    obj.GetCreationTimestamp().Time,
	}
	r.Metadata.CreationTimestamp = r.created.UTC().Format(time.RFC3339)
	r.Status = summarize(obj, r.Kind, h)
	r.lastApplied, _ = time.Parse(time.RFC3339, r.Status.LastApplied)
	return r
}

func summarize(obj *unstructured.Unstructured, kind string, h healthcheck.Result) Summary {
	r := Summary{Health: h.Status, Message: h.Message}
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
	if kind == atlas.KindAtlasSchema {
		applied = num("last_applied")
	}
	if applied > 0 {
		r.LastApplied = time.Unix(applied, 0).UTC().Format(time.RFC3339)
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
