package healthcheck

import (
	"encoding/json"
	"fmt"
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

// Long messages with thousands of secrets (gopher-lua's table.concat overflows its value stack
// past a few thousand pieces, which would make the script fail and Argo CD show Unknown): up to
// the limit a condition holds, all of it redacted; past it, cut first.
func TestLuaRedactionOfLongMessage(t *testing.T) {
	line := "Error: connecting to postgres://app:pw@db:5432/app: password=x token: y a=b c:d\n"
	e := openLibsEvaluator(t)
	for _, m := range []string{
		strings.Repeat(line, MaxMessage/len(line)),
		strings.Repeat(line, 2500),
		strings.Repeat("x", MaxMessage+1), // no white space: nothing of it is kept
	} {
		res, _, err := e.Evaluate(failedWith(m))
		require.NoError(t, err)
		assert.Equal(t, redact.Patterns(CutMessage(m)), res.Message)
		assert.LessOrEqual(t, len(CutMessage(m)), MaxMessage+64)
	}
}

func TestCutMessage(t *testing.T) {
	assert.Equal(t, "short", CutMessage("short"))
	exact := strings.Repeat("a ", MaxMessage/2)
	assert.Equal(t, exact, CutMessage(exact))
	assert.Equal(t, strings.Repeat("a ", MaxMessage/2-1)+"a [2 more bytes not shown]", CutMessage(exact+"b"))
	assert.Equal(t, " [32769 more bytes not shown]", CutMessage(strings.Repeat("x", MaxMessage+1)))
}

// credentialMessage is n bytes of the shared credential shapes, one per line, over and over.
func credentialMessage(tb testing.TB, n int) string {
	var b strings.Builder
	for b.Len() < n {
		for _, tc := range RedactCases(tb) {
			b.WriteString(tc.In)
			b.WriteByte('\n')
		}
	}
	return b.String()[:n]
}

// BenchmarkRedaction is one evaluation in our VM, with the redaction running (useOpenLibs), of
// each kind's script on a Degraded object whose message is 4, 16 and 32 KiB of credential
// shapes. healthcheck/argocdtest has the same in Argo CD's VM; hack/bench/healthcheck.sh runs both.
func BenchmarkRedaction(b *testing.B) {
	for _, kind := range Kinds {
		s, err := Script(kind)
		require.NoError(b, err)
		e, err := NewEvaluator(map[string]Override{OverrideKey(schema.GroupKind{Group: atlas.Group, Kind: kind}): {HealthLua: s, UseOpenLibs: true}})
		require.NoError(b, err)
		for _, kib := range []int{4, 16, 32} {
			obj := failedWith(credentialMessage(b, kib<<10))
			obj.SetKind(kind)
			b.Run(fmt.Sprintf("%s/%dKiB", kind, kib), func(b *testing.B) {
				for b.Loop() {
					if _, _, err := e.Evaluate(obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
