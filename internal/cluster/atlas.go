package cluster

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// AtlasKinds are the operator's two kinds, in the order status lists them.
var AtlasKinds = []AtlasKind{
	{Kind: atlas.KindAtlasMigration, GVR: atlas.MigrationGVR},
	{Kind: atlas.KindAtlasSchema, GVR: atlas.SchemaGVR},
}

// AtlasKind pairs a kind with its resource.
type AtlasKind struct {
	Kind string
	GVR  schema.GroupVersionResource
}

// ParseAtlasKind accepts what a kubectl user would type for an Atlas kind: atlasmigration,
// atlasmigrations, AtlasMigration, atlasmigrations.db.atlasgo.io (case-insensitive).
func ParseAtlasKind(s string) (AtlasKind, error) {
	k := strings.ToLower(s)
	if g := "." + atlas.Group; strings.HasSuffix(k, g) {
		k = strings.TrimSuffix(k, g)
	} else if g := "." + atlas.Version + "." + atlas.Group; strings.HasSuffix(k, g) {
		k = strings.TrimSuffix(k, g)
	}
	for _, ak := range AtlasKinds {
		l := strings.ToLower(ak.Kind)
		if k == l || k == ak.GVR.Resource {
			return ak, nil
		}
	}
	return AtlasKind{}, fmt.Errorf("unknown kind %q: use atlasmigration or atlasschema", s)
}

// Health is the verdict of the project's health script on an Atlas object (the one
// interpretation of its conditions), with credentials redacted from the message.
func Health(obj *unstructured.Unstructured) healthcheck.Result {
	res, _, err := healthcheck.Evaluate(obj)
	if err != nil {
		return healthcheck.Result{Status: healthcheck.Unknown, Message: "health check failed: " + redact.String(err.Error())}
	}
	return res // Evaluate has redacted the message
}

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
		Health:     Health(obj),
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

// VersionApplied reports whether migration version v counts as applied when the database's
// last revision is last. Atlas's rule (migrate.Executor.Pending): versions compare as strings,
// byte by byte, so with unpadded versions "10" is below "9". Atlas applies files in file-name
// order and takes as applied every file up to the last one whose version is <= last.
func VersionApplied(v, last string) bool {
	return last != "" && v <= last
}

// PendingVersions are the versions of a directory, in its file-name order (migrate.LocalDir),
// that atlas would still apply after last: everything after the last file whose version is
// <= last; all of them when there is none.
func PendingVersions(dir []string, last string) []string {
	idx := -1
	for i, v := range dir {
		if VersionApplied(v, last) {
			idx = i
		}
	}
	return append([]string{}, dir[idx+1:]...)
}
