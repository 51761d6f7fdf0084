package doctor

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
)

// defaultBackoffLimit is the CRD's default of spec.backoffLimit (operator v0.7.37).
const defaultBackoffLimit = 20

// checkStatus reads what the operator wrote: the Ready condition and its generation, the
// health verdict, the failure count, a plan waiting for approval.
func (r *run) checkStatus() {
	obj := r.obj
	r.health, _ = healthcheck.Get(obj)
	ready := condition(obj, "Ready")
	r.reason, r.message = str(ready, "reason"), str(ready, "message")
	gen := obj.GetGeneration()
	observed, hasObserved, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	verdict := cluster.Verdict(r.health)

	// health: the one verdict every verb gives
	health := string(r.health.Status)
	if health == "" {
		health = "no verdict"
	}
	saw := health
	if r.health.Message != "" {
		saw += ": " + r.health.Message
	}
	switch {
	case obj.GetDeletionTimestamp() != nil:
		r.add("health", Warn, saw+fmt.Sprintf(" (being deleted since %s; finalizers: %s)", obj.GetDeletionTimestamp().UTC().Format("2006-01-02T15:04:05Z"), strings.Join(obj.GetFinalizers(), ", ")),
			"the operator removes its finalizer once it has cleaned up; if it does not run, nothing removes it")
	case verdict.State == cluster.Done:
		r.add("health", OK, saw, "")
	case verdict.State == cluster.Failed:
		r.add("health", Fail, saw, causeFix(r.reason, r.health.Message+"\n"+r.message))
	case verdict.Notice:
		r.add("health", Warn, saw, causeFix(r.reason, r.health.Message))
	default:
		r.add("health", Warn, saw, causeFix(r.reason, r.health.Message+"\n"+r.message))
	}

	// ready: the condition and whether it is about the current spec
	switch {
	case ready == nil && (!hasObserved || observed <= 0):
		r.add("ready", Warn, fmt.Sprintf("no Ready condition: the operator has not written a status yet (generation %d)", gen),
			"the operator has not picked the resource up: see the operator findings below")
	case ready == nil:
		r.add("ready", Warn, fmt.Sprintf("no Ready condition (observedGeneration %d of generation %d)", observed, gen), "")
	default:
		condGen, _, _ := unstructured.NestedInt64(ready, "observedGeneration")
		if condGen == 0 {
			condGen = observed
		}
		what := fmt.Sprintf("Ready=%s, reason %s", str(ready, "status"), dash(r.reason))
		if m := firstLine(r.message); m != "" {
			what += ": " + m
		}
		switch {
		case condGen < gen:
			r.add("ready", Warn, fmt.Sprintf("%s; stale: written for generation %d, the spec is at generation %d", what, condGen, gen),
				"the operator has not reconciled the latest spec change yet: if this lasts, check that it runs and watches this namespace (findings operator, watch)")
		case str(ready, "status") == "True":
			r.add("ready", OK, fmt.Sprintf("%s (generation %d)", what, gen), "")
		default:
			sev := Warn
			if verdict.State == cluster.Failed {
				sev = Fail
			}
			r.add("ready", sev, fmt.Sprintf("%s (generation %d, current)", what, gen), "")
		}
	}

	// failures: the operator's retry count against the backoff limit
	failed, _, _ := unstructured.NestedInt64(obj.Object, "status", "failed")
	limit, hasLimit, _ := unstructured.NestedInt64(obj.Object, "spec", "backoffLimit")
	if !hasLimit {
		limit = defaultBackoffLimit
	}
	switch {
	case failed == 0:
		r.add("failures", OK, "no failed attempt since the last success or spec change", "")
	case limit > 0 && failed >= limit:
		r.add("failures", Fail, fmt.Sprintf("%d failed attempts: backoffLimit %d reached, the operator no longer retries", failed, limit),
			"fix the cause; a change of the spec or of the migration files makes the operator start again")
	default:
		r.add("failures", Warn, fmt.Sprintf("%d failed attempt(s); the operator retries after %d s (backoffLimit %d, 0 = forever)", failed, failed*5, limit), "")
	}

	// approval: a plan waiting for a person
	url, _, _ := unstructured.NestedString(obj.Object, "status", "approvalUrl")
	if url == "" {
		url, _, _ = unstructured.NestedString(obj.Object, "status", "planURL")
	}
	if r.reason == "ApprovalPending" || url != "" && str(ready, "status") != "True" {
		if url == "" {
			url = "(no URL in the status)"
		}
		r.add("approval", Warn, "a plan waits for approval: "+url, "review and approve (or reject) the plan in Atlas Cloud; the operator goes on by itself")
	}
}

// causeFix is the fix for the operator's reason and message: what usually causes them.
func causeFix(reason, message string) string {
	m := strings.ToLower(message)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("checksum mismatch", "checksum error"):
		return "the migration files do not match atlas.sum, or an applied file was edited: see the atlas.sum finding, and run doctor with --dir DIR to name the file that differs. Never edit an applied file: restore it, put the change in a new file, run `atlas migrate hash` and pack the directory again"
	case has("invalid url escape", "invalid port", "invalid character", "parse \""):
		return "the database URL does not parse: percent-encode special characters of the user and password (e.g. % as %25, @ as %40); see the url finding"
	case reason == "ReadingMigrationData" && has("secret") && has("not found"):
		return "create the Secret the message names in this namespace (see the url finding), or fix the secretKeyRef; the operator retries by itself"
	case reason == "ReadingMigrationData" && has("configmap") && has("not found"):
		return "apply the migrations ConfigMap the message names in this namespace (see the configmap finding); the operator retries by itself"
	case has("connection refused", "no such host", "i/o timeout", "network is unreachable", "timeout expired", "could not connect"):
		return "the operator cannot reach the database: check host and port in the URL, that the database runs, and network policies between the operator and the database"
	case has("password authentication failed", "access denied for user"):
		return "the database refused the credentials of the URL: fix user or password in the Secret"
	case has("executing statement"):
		return "a statement of a migration file failed on the database: fix it in a new migration file (or fix the unapplied file and rehash), then pack and apply the directory again"
	case reason == "GettingDevDB":
		return "the operator waits for its dev database: see the dev-db finding, or set spec.devURL (devURLFrom) to an empty database you run"
	case reason == "ApprovalPending":
		return "a plan waits for approval in Atlas Cloud: see the approval finding"
	case reason == "FirstRunDestructive":
		return "the first run would drop objects: check the schema, or set spec.policy.lint.destructive.error: false if intended"
	case reason == "WhoAmI" || reason == "Login":
		return "the operator's atlas cannot log in to Atlas Cloud: check the token Secret (cloud-token finding)"
	case reason == "Reconciling" || reason == "":
		return ""
	}
	return "read the operator's message above, and its Events and logs below"
}

func condition(obj *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
