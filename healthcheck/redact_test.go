package healthcheck

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// RedactCases is internal/redact's shared table of credential shapes.
func RedactCases(t testing.TB) []struct{ In, Want string } {
	t.Helper()
	b, err := os.ReadFile("../internal/redact/testdata/cases.json")
	require.NoError(t, err)
	var cases []struct{ In, Want string }
	require.NoError(t, json.Unmarshal(b, &cases))
	return cases
}

// failedWith is an AtlasMigration whose Ready condition failed with message m and no reason:
// the scripts' verdict is then Degraded with exactly redact(m).
func failedWith(m string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": atlas.KindAtlasMigration,
		"metadata": map[string]any{"name": "m", "namespace": "x", "generation": int64(1)},
		"status": map[string]any{"observedGeneration": int64(1), "conditions": []any{
			map[string]any{"type": "Ready", "status": "False", "message": m},
		}},
	}}
}

func openLibsEvaluator(t testing.TB) *Evaluator {
	t.Helper()
	s, err := Script(atlas.KindAtlasMigration)
	require.NoError(t, err)
	e, err := NewEvaluator(map[string]Override{OverrideKey(schema.GroupKind{Group: atlas.Group, Kind: atlas.KindAtlasMigration}): {HealthLua: s, UseOpenLibs: true}})
	require.NoError(t, err)
	return e
}

// The scripts' Lua redaction (useOpenLibs) and the Go one give the same text for every shape;
// without open libs the scripts pass messages as they are. healthcheck/argocdtest runs the same
// table in Argo CD's VM.
func TestLuaRedactionAgreesWithGo(t *testing.T) {
	open := openLibsEvaluator(t)
	for _, tc := range RedactCases(t) {
		res, ok, err := open.Evaluate(failedWith(tc.In))
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, Result{Status: Degraded, Message: tc.Want}, res, "open libs: %s", tc.In)
		assert.Equal(t, tc.Want, redact.Patterns(tc.In))

		res, _, err = Default().Evaluate(failedWith(tc.In))
		require.NoError(t, err)
		assert.Equal(t, Result{Status: Degraded, Message: tc.In}, res, "default VM: unredacted")
	}
}

// FuzzLuaRedactionAgreesWithGo: for any message the Lua redaction and redact.Patterns agree.
func FuzzLuaRedactionAgreesWithGo(f *testing.F) {
	for _, tc := range RedactCases(f) {
		f.Add(tc.In)
	}
	open := openLibsEvaluator(f)
	f.Fuzz(func(t *testing.T, m string) {
		if m == "" || !utf8.ValidString(m) {
			return // an empty message is no message; invalid UTF-8 is replaced in the JSON round trip
		}
		res, _, err := open.Evaluate(failedWith(m))
		require.NoError(t, err)
		assert.Equal(t, redact.Patterns(m), res.Message, "message %q", m)
	})
}

// A long message with thousands of secrets (gopher-lua's table.concat overflows its value stack
// past a few thousand pieces, which would make the script fail and Argo CD show Unknown).
func TestLuaRedactionOfLongMessage(t *testing.T) {
	m := strings.Repeat("Error: connecting to postgres://app:pw@db:5432/app: password=x token: y a=b c:d\n", 2500)
	res, _, err := openLibsEvaluator(t).Evaluate(failedWith(m))
	require.NoError(t, err)
	assert.Equal(t, redact.Patterns(m), res.Message)
}
