package argocdtest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// credentialMessage is n bytes of the shared credential shapes, one per line, over and over.
func credentialMessage(tb testing.TB, n int) string {
	b, err := os.ReadFile("../../internal/redact/testdata/cases.json")
	require.NoError(tb, err)
	var cases []struct{ In string }
	require.NoError(tb, json.Unmarshal(b, &cases))
	var s strings.Builder
	for s.Len() < n {
		for _, tc := range cases {
			s.WriteString(tc.In)
			s.WriteByte('\n')
		}
	}
	return s.String()[:n]
}

// atlasObject is an object of kind whose status is the given one.
func atlasObject(kind string, status map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": kind,
		"metadata": map[string]any{"name": "x", "namespace": "x", "generation": int64(1)},
		"status":   status,
	}}
}

func failedStatus(message string) map[string]any {
	return map[string]any{"observedGeneration": int64(1), "conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "Migrating", "message": message},
	}}
}

// openLibs are our scripts as argocd-cm gives them to Argo CD, with useOpenLibs on or off.
func openLibs(t testing.TB, on bool) (map[string]appv1.ResourceOverride, *healthcheck.Evaluator) {
	data := renderedData(t, healthcheck.FormatArgoCDConfigMap)
	ours := map[string]healthcheck.Override{}
	for _, kind := range healthcheck.Kinds {
		if on {
			data["resource.customizations.useOpenLibs.db.atlasgo.io_"+kind] = "true"
		}
		s, err := healthcheck.Script(kind)
		require.NoError(t, err)
		ours[healthcheck.OverrideKey(schema.GroupKind{Group: atlas.Group, Kind: kind})] = healthcheck.Override{HealthLua: s, UseOpenLibs: on}
	}
	e, err := healthcheck.NewEvaluator(ours)
	require.NoError(t, err)
	return overridesFrom(t, data), e
}

// BenchmarkRedactionArgoCDVM is one evaluation in Argo CD's VM (fresh VM, parse, run, as its
// controller does) of each kind's script with the redaction running (useOpenLibs) on a Degraded
// object whose message is 4, 16 and 32 KiB of credential shapes; the same in our VM.
// hack/bench/healthcheck.sh prints both.
func BenchmarkRedactionArgoCDVM(b *testing.B) {
	ov, _ := openLibs(b, true)
	benchRedaction(b, func(o *unstructured.Unstructured) error { _, err := argoHealth(b, ov, o); return err })
}

func BenchmarkRedactionOurVM(b *testing.B) {
	_, e := openLibs(b, true)
	benchRedaction(b, func(o *unstructured.Unstructured) error { _, _, err := e.Evaluate(o); return err })
}

func benchRedaction(b *testing.B, eval func(*unstructured.Unstructured) error) {
	for _, kind := range healthcheck.Kinds {
		for _, kib := range []int{4, 16, 32} {
			obj := atlasObject(kind, failedStatus(credentialMessage(b, kib<<10)))
			b.Run(fmt.Sprintf("%s/%dKiB", kind, kib), func(b *testing.B) {
				for b.Loop() {
					if err := eval(obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// nested is a value depth levels deep.
func nested(depth int) any {
	var v any = "bottom"
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			v = map[string]any{"k": v}
		} else {
			v = []any{v}
		}
	}
	return v
}

// hostileStatuses are statuses the operator (or anything with write access to the status
// subresource) can write: each must give a verdict with a message, never a script error.
func hostileStatuses(t testing.TB) map[string]map[string]any {
	secrets := strings.Repeat("postgres://u:p@h/d mysql://a:b@c/d password=x ", 5000)
	conditions := make([]any, 0, 2000)
	for i := 0; i < 2000; i++ {
		conditions = append(conditions, map[string]any{"type": fmt.Sprintf("C%d", i), "status": "False", "message": "password=hunter2"})
	}
	conditions = append(conditions, map[string]any{"type": "Ready", "status": "False", "message": "last"})
	return map[string]map[string]any{
		"1 MiB message":                     failedStatus(strings.Repeat("a", 1<<20)),
		"32 KiB of credentials":             failedStatus(credentialMessage(t, healthcheck.MaxMessage)),
		"thousands of secrets past the cut": failedStatus(secrets),
		"invalid UTF-8":                     failedStatus("bad \xff\xfe bytes: postgres://u:p\xc3@h/d password=\xe2\x82"),
		"NUL and control bytes":             failedStatus("a\x00b\x01c password=\x00x\x7f"),
		"2001 conditions":                   {"observedGeneration": int64(1), "conditions": conditions},
		"deeply nested status":              {"observedGeneration": int64(1), "deep": nested(500), "conditions": []any{map[string]any{"type": "Ready", "status": "False", "message": nested(200)}}},
		"deeply nested conditions":          {"observedGeneration": int64(1), "conditions": nested(500)},
		"approval URL of 1 MiB":             {"observedGeneration": int64(1), "approvalUrl": "https://u:p@x/" + strings.Repeat("b", 1<<20), "conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "ApprovalPending"}}},
	}
}

// Hostile statuses get a verdict with a message in Argo CD's VM and ours alike, with and without
// useOpenLibs, and with open libs a redacted one.
func TestHostileStatusesInBothVMs(t *testing.T) {
	for _, on := range []bool{false, true} {
		ov, ours := openLibs(t, on)
		for name, status := range hostileStatuses(t) {
			for _, kind := range healthcheck.Kinds {
				obj := atlasObject(kind, status)
				theirs, err := argoHealth(t, ov, obj)
				require.NoError(t, err, "%s %s openLibs=%v: Argo CD's VM", kind, name, on)
				assert.NotEmpty(t, theirs.Status, "%s %s", kind, name)
				assert.NotEmpty(t, theirs.Message, "%s %s", kind, name)
				got, ok, err := ours.Evaluate(obj)
				require.NoError(t, err, "%s %s openLibs=%v: our VM", kind, name, on)
				require.True(t, ok)
				assert.Equal(t, theirs, got, "%s %s openLibs=%v: same verdict", kind, name, on)
				if on {
					assert.LessOrEqual(t, len(got.Message), 2*healthcheck.MaxMessage, "%s %s: cut", kind, name)
					assert.Equal(t, redact.Patterns(got.Message), got.Message, "%s %s: redacted", kind, name)
				}
			}
		}
	}
}
