package argocdtest

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/lua"
)

const widget = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: default
  generation: 3
  labels: {app: w}
spec:
  replicas: 2
  ratio: 0.5
  big: 9007199254740993
  enabled: true
  off: false
  empty: null
  list: [a, null, b, 7]
  nested: [[1, 2], [], {}]
status:
  phase: "True"
`

// Odd and hostile scripts give the same (status, message, error text) in our VM as in Argo CD's,
// with and without open libs: libraries, conversion of the object, result rules, limits.
// conformanceScripts are odd and hostile health scripts whose results (status, message, error
// or not) must be the same in Argo CD's VM and ours.
var conformanceScripts = map[string]string{
	"healthy":              `return {status = "Healthy", message = "ok"}`,
	"empty table":          `return {}`,
	"nil":                  `return nil`,
	"no return":            `local x = 1`,
	"string":               `return "Healthy"`,
	"number":               `return 42`,
	"invalid status":       `return {status = "healthy", message = "lower case"}`,
	"message number":       `return {status = "Healthy", message = 5}`,
	"status only":          `return {status = "Degraded"}`,
	"message only":         `return {message = "m"}`,
	"case folded keys":     `return {Status = "Healthy", MESSAGE = "folded"}`,
	"both cases":           `return {status = "Healthy", Status = "Degraded"}`,
	"array":                `return {"Healthy", "x"}`,
	"extra keys":           `return {status = "Suspended", message = "m", extra = {1, 2}}`,
	"function value":       `return {status = "Healthy", f = print}`,
	"mixed keys":           `return {status = "Healthy", [1] = "x"}`,
	"nested self":          `local t = {status = "Healthy"} t.self = t return t`,
	"invalid utf8":         `return {status = "Healthy", message = "a\255b"}`,
	"two values":           `return {status = "Degraded"}, {status = "Healthy"}`,
	"error":                `error("boom")`,
	"error level 0":        `error("boom", 0)`,
	"runtime error":        `return obj.nope.field`,
	"syntax error":         `return {status = `,
	"endless loop":         `while true do end`,
	"recursion":            `local function f(n) return 1 + f(n + 1) end return f(1)`,
	"string lib":           `return {status = "Healthy", message = string.upper("x")}`,
	"method on string":     `return {status = "Healthy", message = ("x"):upper()}`,
	"math lib":             `return {status = "Healthy", message = tostring(math.floor(1.5))}`,
	"os.execute":           `os.execute("true") return {status = "Healthy"}`,
	"io":                   `return {status = "Healthy", message = tostring(io ~= nil)}`,
	"require os":           `local os = require("os") return {status = "Healthy", message = type(os.time()) .. type(os.execute)}`,
	"table.time quirk":     `return {status = "Healthy", message = type(table.time) .. type(table.date) .. type(table.insert)}`,
	"globals":              `local n = {} for k, _ in pairs(_G) do table.insert(n, k) end table.sort(n) return {status = "Healthy", message = table.concat(n, ",")}`,
	"libs present":         `return {status = "Healthy", message = type(string) .. type(math) .. type(os) .. type(io) .. type(coroutine) .. type(debug) .. type(package) .. type(table) .. type(channel)}`,
	"numbers":              `local s = obj.spec return {status = "Healthy", message = tostring(s.replicas) .. " " .. tostring(s.ratio) .. " " .. tostring(s.big) .. " " .. type(s.replicas)}`,
	"booleans and nulls":   `local s = obj.spec return {status = "Healthy", message = tostring(s.enabled) .. tostring(s.off) .. tostring(s.empty) .. tostring(obj.status.phase == "True")}`,
	"null in array":        `local l = obj.spec.list return {status = "Healthy", message = #l .. ":" .. table.concat({l[1], l[2], tostring(l[3]), tostring(l[4])}, ",")}`,
	"nested arrays":        `local n = obj.spec.nested return {status = "Healthy", message = #n .. " " .. #n[1] .. " " .. #n[2] .. " " .. type(n[3])}`,
	"generation":           `return {status = "Progressing", message = "generation " .. obj.metadata.generation}`,
	"actionParams":         `local n = 0 for _ in pairs(actionParams) do n = n + 1 end return {status = "Healthy", message = type(actionParams) .. n}`,
	"set global":           `leaked = "yes" return {status = "Healthy", message = tostring(leaked)}`,
	"setfenv 0":            `setfenv(0, {}) return {status = "Healthy"}`,
	"metatable on globals": `setmetatable(_G, {__index = function() return "x" end}) return {status = "Healthy", message = tostring(undefined_thing)}`,
	"overwrite library":    `table.insert = nil print = nil return {status = "Healthy"}`,
	"pcall":                `local ok, err = pcall(error, "inner") return {status = "Degraded", message = tostring(ok) .. " " .. tostring(err)}`,
	"tostring float":       `return {status = "Healthy", message = tostring(1/3) .. " " .. tostring(2^53) .. " " .. tostring(1e100)}`,
	"loadstring":           `local f = loadstring("return 1 + 1") return {status = "Healthy", message = tostring(f and f())}`,
	"dofile":               `dofile("/etc/hostname") return {status = "Healthy"}`,
}

func TestVMConformance(t *testing.T) {
	objs, err := healthcheck.DecodeObjects([]byte(widget))
	require.NoError(t, err)
	obj := objs[0]
	deleting := obj.DeepCopy()
	deleting.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-20T11:00:00Z"
	hooked := deleting.DeepCopy()
	hooked.SetFinalizers([]string{lua.HookFinalizer})

	scripts := maps.Clone(conformanceScripts)
	// Scripts that try to leave state behind for the next evaluation (lua/testdata/hostile):
	// Argo CD's fresh VM per evaluation sees none of it, so neither may our pooled one.
	hostile, err := filepath.Glob("../../lua/testdata/hostile/*.lua")
	require.NoError(t, err)
	require.NotEmpty(t, hostile)
	for _, f := range hostile {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		scripts["hostile "+filepath.Base(f)] = string(b)
	}
	for _, openLibs := range []bool{false, true} {
		for name, script := range scripts {
			for _, o := range []*unstructured.Unstructured{obj, deleting, hooked} {
				label := name
				if openLibs {
					label += " (open libs)"
				}
				switch o {
				case deleting:
					label += " (deleting)"
				case hooked:
					label += " (deleting, hook finalizer)"
				}
				t.Run(label, func(t *testing.T) { sameVerdict(t, script, openLibs, o) })
			}
		}
	}
}

func benchObject(tb testing.TB) *unstructured.Unstructured {
	tb.Helper()
	data, err := os.ReadFile("../testdata/bench/atlasmigration.yaml")
	require.NoError(tb, err)
	objs, err := healthcheck.DecodeObjects(data)
	require.NoError(tb, err)
	return objs[0]
}

// The benchmark object gets the same verdict in both VMs.
func TestBenchObjectVerdicts(t *testing.T) {
	obj := benchObject(t)
	ov := overridesFrom(t, renderedData(t, healthcheck.FormatArgoCDConfigMap))
	theirs, err := argoHealth(t, ov, obj)
	require.NoError(t, err)
	ours, ok, err := healthcheck.Evaluate(obj)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, healthcheck.Result{Status: healthcheck.Healthy, Message: "applied version 20261115090000"}, ours)
	assert.Equal(t, theirs, ours)
}

// One evaluation of our AtlasMigration script on a realistic object in Argo CD's VM (the
// controller's path: override lookup, fresh VM, parse, run, JSON round trip) and in ours.
// hack/bench/healthcheck.sh runs both and prints the ratio.
func BenchmarkAtlasMigrationArgoCDVM(b *testing.B) {
	obj := benchObject(b)
	ov := overridesFrom(b, renderedData(b, healthcheck.FormatArgoCDConfigMap))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := argoHealth(b, ov, obj); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAtlasMigrationOurVM(b *testing.B) {
	obj := benchObject(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := healthcheck.Evaluate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

// The shared table of credential shapes (internal/redact/testdata/cases.json) in Argo CD's VM:
// with useOpenLibs our scripts redact exactly as kubectl-atlas's Go code; without, messages are
// shown as the operator wrote them.
func TestRedactionInArgoCD(t *testing.T) {
	b, err := os.ReadFile("../../internal/redact/testdata/cases.json")
	require.NoError(t, err)
	var cases []struct{ In, Want string }
	require.NoError(t, json.Unmarshal(b, &cases))
	// and a long message with thousands of secrets (no stack overflow), cut where a condition ends
	long := strings.Repeat("Error: connecting to postgres://app:pw@db:5432/app: password=x token: y a=b c:d\n", 2500)
	cases = append(cases, struct{ In, Want string }{long, redact.Patterns(healthcheck.CutMessage(long))})
	data := renderedData(t, healthcheck.FormatArgoCDConfigMap)
	plain := overridesFrom(t, data)
	for _, kind := range healthcheck.Kinds {
		data["resource.customizations.useOpenLibs.db.atlasgo.io_"+kind] = "true"
	}
	open := overridesFrom(t, data)
	for _, tc := range cases {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasSchema",
			"metadata": map[string]any{"name": "s", "namespace": "x", "generation": int64(1)},
			"status": map[string]any{"observedGeneration": int64(1), "conditions": []any{
				map[string]any{"type": "Ready", "status": "False", "message": tc.In},
			}},
		}}
		got, err := argoHealth(t, open, obj)
		require.NoError(t, err)
		assert.Equal(t, healthcheck.Result{Status: healthcheck.Degraded, Message: tc.Want}, got, "open libs: %s", tc.In)
		assert.Equal(t, tc.Want, redact.Patterns(healthcheck.CutMessage(tc.In)))
		got, err = argoHealth(t, plain, obj)
		require.NoError(t, err)
		assert.Equal(t, tc.In, got.Message, "default VM")
	}
}

// sameVerdict evaluates script on o in Argo CD's VM twice and in ours three times (later runs use
// a pooled state an earlier one may have changed) and wants the same result every time.
func sameVerdict(t *testing.T, script string, openLibs bool, o *unstructured.Unstructured) {
	key := "example.com/Widget"
	ov := map[string]appv1.ResourceOverride{key: {HealthLua: script, UseOpenLibs: openLibs}}
	theirs, theirErr := argoHealth(t, ov, o)
	e, err := healthcheck.NewEvaluator(map[string]healthcheck.Override{key: {HealthLua: script, UseOpenLibs: openLibs}})
	require.NoError(t, err)
	again, againErr := argoHealth(t, ov, o)
	require.Equal(t, theirs, again, "Argo CD gives the same twice")
	require.Equal(t, theirErr == nil, againErr == nil)
	// Three times: later runs use a pooled state an earlier one may have messed with.
	for i := 0; i < 3; i++ {
		ours, ok, ourErr := e.Evaluate(o)
		require.True(t, ok)
		assert.Equal(t, theirs, ours)
		assert.Equal(t, theirErr != nil, ourErr != nil, "error or not: theirs %v, ours %v", theirErr, ourErr)
	}
}
