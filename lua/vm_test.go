package lua

import (
	"sync"
	"testing"
	"time"

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
		want         Health
		err          string
	}{
		{"verdict", `return {status = "Healthy", message = "gen " .. obj.metadata.generation}`, false, Health{"Healthy", "gen 2"}, ""},
		{"nulls dropped from arrays", `local l = obj.spec.list return {status = "Healthy", message = #l .. l[2]}`, false, Health{"Healthy", "2b"}, ""},
		{"null map value absent", `return {status = "Healthy", message = tostring(obj.spec.gone) .. tostring(obj.spec.on) .. obj.spec.n}`, false, Health{"Healthy", "niltrue1.5"}, ""},
		{"empty table", `return {}`, false, Health{}, ""},
		{"nil", `return nil`, false, Health{}, ""},
		{"invalid status", `return {status = "Fine"}`, false, Health{StatusUnknown, MessageInvalidStatus}, ""},
		{"non-string message", `return {status = "Healthy", message = 1}`, false, Health{}, ""},
		{"not a table", `return true`, false, Health{}, "expect table output from Lua script, not boolean"},
		{"no string library", `return {status = string.lower("Healthy")}`, false, Health{}, "<string>:1: attempt to index a non-table object(nil) with key 'lower'"},
		{"string library with open libs", `return {status = string.gsub("Xealthy", "X", "H")}`, true, Health{"Healthy", ""}, ""},
		{"no os", `os.exit(1)`, false, Health{}, "<string>:1: attempt to index a non-table object(nil) with key 'exit'"},
		{"safe os through require", `local os = require("os") return {status = "Healthy", message = type(os.time()) .. type(os.exit)}`, false, Health{"Healthy", "numbernil"}, ""},
		{"runtime error without stack trace", `error("boom")`, false, Health{}, "<string>:1: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.script, tt.openLibs)
			require.NoError(t, err)
			for i := 0; i < 2; i++ { // fresh state, then a pooled one
				got, err := s.Health(widget())
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
	start := time.Now()
	h, err := s.ResourceHealth(widget())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, StatusUnknown, h.Status)
	assert.Contains(t, h.Message, "context deadline exceeded")
}

func TestDeletionPreCheck(t *testing.T) {
	s, err := Compile(`return {status = "Healthy"}`, false)
	require.NoError(t, err)
	o := widget()
	o.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-20T11:00:00Z"
	h, err := s.ResourceHealth(o)
	require.NoError(t, err)
	assert.Equal(t, Health{StatusProgressing, MessagePendingDeletion}, h)
	o.SetFinalizers([]string{HookFinalizer})
	h, err = s.ResourceHealth(o)
	require.NoError(t, err)
	assert.Equal(t, Health{StatusHealthy, ""}, h)
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
		got, err := s.Health(widget())
		require.NoError(t, err)
		assert.Equal(t, Health{"Healthy", "nilnilnilfunction"}, got, "run %d", i)
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
				got, err := s.Health(widget())
				if !assert.NoError(t, err) || !assert.Equal(t, Health{"Healthy", "w"}, got) {
					return
				}
			}
		}()
	}
	wg.Wait()
}
