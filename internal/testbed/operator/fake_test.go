package operator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func atlasObject(kind string, status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "db.atlasgo.io/v1alpha1", "kind": kind,
		"metadata": map[string]any{"name": "app", "generation": int64(2)}}}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

func conditions(st map[string]any) map[string][2]string {
	out := map[string][2]string{}
	for _, c := range st["conditions"].([]any) {
		m := c.(map[string]any)
		out[m["type"].(string)] = [2]string{m["status"].(string), m["message"].(string)}
	}
	return out
}

// TestStatus checks the three condition sets of api/v1alpha1's setters, the failed counter and
// the kind-specific fields.
func TestStatus(t *testing.T) {
	now := time.Unix(1700000000, 0)
	failing := Status(atlasObject("AtlasMigration", map[string]any{"failed": int64(2)}), Failed("Migrating", "boom"), now)
	assert.Equal(t, map[string][2]string{"Ready": {"False", "boom"}, "Reconciling": {"False", "boom"}, "Stalled": {"True", "boom"}}, conditions(failing))
	assert.Equal(t, int64(3), failing["failed"])
	assert.Equal(t, int64(2), failing["observedGeneration"])

	pending := Status(atlasObject("AtlasSchema", map[string]any{"failed": int64(2)}), State{Reason: ReasonApprovalPending, Message: "review", PlanURL: "https://p"}, now)
	assert.Equal(t, map[string][2]string{"Ready": {"False", "review"}, "Reconciling": {"True", "review"}, "Stalled": {"False", ""}}, conditions(pending))
	assert.Equal(t, int64(2), pending["failed"], "a plan waiting for approval is no failure and no reset")
	assert.Equal(t, "https://p", pending["planURL"])

	applied := Status(atlasObject("AtlasMigration", map[string]any{"failed": int64(2), "approvalUrl": "u", "observed_hash": "x"}), Applied("3"), now)
	assert.Equal(t, map[string][2]string{"Ready": {"True", ""}, "Reconciling": {"False", ""}, "Stalled": {"False", ""}}, conditions(applied))
	assert.Equal(t, int64(0), applied["failed"])
	assert.Equal(t, "3", applied["lastAppliedVersion"])
	assert.Equal(t, now.Unix(), applied["lastApplied"])
	assert.Equal(t, "x", applied["observed_hash"], "kept between reconciles")
	assert.NotContains(t, applied, "approvalUrl")

	stale := Status(atlasObject("AtlasSchema", nil), State{Reason: ReasonReconciling, StaleGeneration: true}, now)
	assert.Equal(t, int64(1), stale["observedGeneration"])
	assert.Equal(t, "h", stale["observed_hash"])
}
