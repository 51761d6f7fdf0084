package lua

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func widget() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "generation": int64(2)},
		"spec":     map[string]any{"list": []any{"a", nil, "b"}, "gone": nil, "n": 1.5, "on": true},
	}}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name, script string
		openLibs     bool
		want         result
		err          string
	}{
		{"verdict", `return {status = "Healthy", message = "gen " .. obj.metadata.generation}`, false, result{"Healthy", "gen 2"}, ""},
		{"nulls dropped from arrays", `local l = obj.spec.list return {status = "Healthy", message = #l .. l[2]}`, false, result{"Healthy", "2b"}, ""},
		{"null map value absent", `return {status = "Healthy", message = tostring(obj.spec.gone) .. tostring(obj.spec.on) .. obj.spec.n}`, false, result{"Healthy", "niltrue1.5"}, ""},
		{"empty table", `return {}`, false, result{}, ""},
		{"nil", `return nil`, false, result{}, ""},
		{"invalid status", `return {status = "Fine"}`, false, result{StatusUnknown, MessageInvalidStatus}, ""},
		{"non-string message", `return {status = "Healthy", message = 1}`, false, result{}, ""},
		{"not a table", `return true`, false, result{}, "expect table output from Lua script, not boolean"},
		{"no string library", `return {status = string.lower("Healthy")}`, false, result{}, "<string>:1: attempt to index a non-table object(nil) with key 'lower'"},
		{"string library with open libs", `return {status = string.gsub("Xealthy", "X", "H")}`, true, result{"Healthy", ""}, ""},
		{"no os", `os.exit(1)`, false, result{}, "<string>:1: attempt to index a non-table object(nil) with key 'exit'"},
		{"safe os through require", `local os = require("os") return {status = "Healthy", message = type(os.time()) .. type(os.exit)}`, false, result{"Healthy", "numbernil"}, ""},
		{"runtime error without stack trace", `error("boom")`, false, result{}, "<string>:1: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.script, tt.openLibs)
			require.NoError(t, err)
			for i := 0; i < 2; i++ { // fresh state, then a pooled one
				got, err := s.health(widget())
				if tt.err != "" {
					require.Error(t, err)
					assert.Equal(t, tt.err, err.Error())
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := Compile(`return {`, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "syntax error")
}

func TestTimeout(t *testing.T) {
	s, err := Compile(`while true do end`, false)
	require.NoError(t, err)
	status, message, err := s.ResourceHealth(widget()) // returns at all: the loop was stopped
	require.Error(t, err)
	assert.Equal(t, StatusUnknown, status)
	assert.Contains(t, message, "context deadline exceeded")
}

func TestDeletionPreCheck(t *testing.T) {
	s, err := Compile(`return {status = "Healthy"}`, false)
	require.NoError(t, err)
	o := widget()
	o.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-20T11:00:00Z"
	status, message, err := s.ResourceHealth(o)
	require.NoError(t, err)
	assert.Equal(t, result{StatusProgressing, MessagePendingDeletion}, result{status, message})
	o.SetFinalizers([]string{HookFinalizer})
	status, message, err = s.ResourceHealth(o)
	require.NoError(t, err)
	assert.Equal(t, result{StatusHealthy, ""}, result{status, message})
}

// metadata.managedFields is not given to scripts (no health check reads the API server's field
// bookkeeping, and building its tables was most of an evaluation); everything else is, as
// Argo CD gives it, the rest of metadata included.
func TestObjectWithoutManagedFields(t *testing.T) {
	s, err := Compile(`
local m = obj.metadata
if m.managedFields ~= nil or obj.spec.size ~= 3 or m.labels.app ~= "w" then
  return {status = "Degraded", message = "unexpected object"}
end
return {status = "Healthy", message = m.name}`, false)
	require.NoError(t, err)
	o := widget()
	o.Object["spec"] = map[string]any{"size": int64(3)}
	o.SetLabels(map[string]string{"app": "w"})
	o.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{
		"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{"f:size": map[string]any{}}},
	}}
	h, err := s.health(o)
	require.NoError(t, err)
	assert.Equal(t, result{StatusHealthy, o.GetName()}, h)
	assert.NotNil(t, o.Object["metadata"].(map[string]any)["managedFields"], "the caller's object is left as it was")
}

// A pooled state must not carry anything from one evaluation to the next.
func TestPooledStateIsolation(t *testing.T) {
	s, err := Compile(`
local seen = tostring(leaked) .. tostring(table.extra) .. tostring(getmetatable(_G)) .. type(print)
leaked = "yes"
table.extra = 1
print = nil
setmetatable(_G, {})
setfenv(0, {})
return {status = "Healthy", message = seen}`, false)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		got, err := s.health(widget())
		require.NoError(t, err)
		assert.Equal(t, result{"Healthy", "nilnilnilfunction"}, got, "run %d", i)
	}
}

// testdata/hostile/*.lua try to leave state behind for their next evaluation; each reports in
// its message what it found of an earlier run. Argo CD runs every evaluation in a fresh VM, so
// every run must report the same as the first. healthcheck/argocdtest runs them in Argo CD too.
func hostileScripts(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/hostile/*.lua")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out[filepath.Base(f)] = string(b)
	}
	return out
}

func TestPooledStateIsolationHostile(t *testing.T) {
	for name, script := range hostileScripts(t) {
		for _, openLibs := range []bool{false, true} {
			s, err := Compile(script, openLibs)
			require.NoError(t, err)
			first, err1 := s.health(widget())
			for i := 0; i < 3; i++ {
				got, err := s.health(widget())
				assert.Equal(t, err1 == nil, err == nil, "%s (open libs %v) run %d: %v", name, openLibs, i, err)
				assert.Equal(t, first, got, "%s (open libs %v) run %d", name, openLibs, i)
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	s, err := Compile(`x = obj.metadata.name return {status = "Healthy", message = x}`, false)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				got, err := s.health(widget())
				if !assert.NoError(t, err) || !assert.Equal(t, result{"Healthy", "w"}, got) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// The pooled path (no open libs) against a fresh state per evaluation (open libs, as Argo CD
// does for every evaluation): the cost of isolation with open libs.
func BenchmarkHealthPooled(b *testing.B)   { benchHealth(b, false) }
func BenchmarkHealthOpenLibs(b *testing.B) { benchHealth(b, true) }

func benchHealth(b *testing.B, openLibs bool) {
	s, err := Compile(`return {status = "Healthy", message = "gen " .. obj.metadata.generation}`, openLibs)
	require.NoError(b, err)
	obj := widget()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.health(obj); err != nil {
			b.Fatal(err)
		}
	}
}
