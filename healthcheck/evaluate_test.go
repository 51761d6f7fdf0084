package healthcheck

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/lua"
)

func object(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, yaml.Unmarshal([]byte(y), &m))
	return &unstructured.Unstructured{Object: m}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		obj    string
		ok     bool
		result Result
	}{
		{"not atlas", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}", false, Result{}},
		{"other group same kind", "apiVersion: example.com/v1\nkind: AtlasSchema\nmetadata: {name: x}", false, Result{}},
		{"new object", "apiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasMigration\nmetadata: {name: x, generation: 1}", true,
			Result{Progressing, "Waiting for Atlas Operator"}},
		{"applied", `apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: x, generation: 2, annotations: {kubectl-atlas.io/target-version: "3"}}
status: {observedGeneration: 2, lastAppliedVersion: "3", conditions: [{type: Ready, status: "True", reason: Applied}]}`, true,
			Result{Healthy, "applied version 3"}},
		{"another kind of the group: the generic rule", `apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasDriftCheck
metadata: {name: x, generation: 2}
status: {observedGeneration: 2, conditions: [{type: Ready, status: "False", reason: DriftDetected, message: "2 objects drifted"}, {type: Stalled, status: "True", reason: DriftDetected}]}`, true,
			Result{Degraded, "DriftDetected: 2 objects drifted"}},
		{"deleting: Argo CD v3.5.1's pre-check answers", `apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: x, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [foregroundDeletion]}`, true,
			Result{Progressing, "Pending deletion"}},
		{"password redacted", `apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasSchema
metadata: {name: x, generation: 2}
status: {observedGeneration: 2, conditions: [{type: Ready, status: "False", reason: SchemaInspect, message: "Error: dial mysql://root:s3cret@db:3306/app?password=s3cret&x=1 failed"}]}`, true,
			Result{Degraded, "SchemaInspect: Error: dial mysql://root:xxxxx@db:3306/app?password=xxxxx&x=1 failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok, err := Evaluate(object(t, tt.obj))
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, tt.result, res)
			}
		})
	}
}

// The pooled VM states are shared between goroutines (status evaluates in parallel).
func TestEvaluateConcurrent(t *testing.T) {
	objs := []*unstructured.Unstructured{
		object(t, "apiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasMigration\nmetadata: {name: x, generation: 3}\nstatus: {observedGeneration: 2}"),
		object(t, "apiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasSchema\nmetadata: {name: y}\nstatus: {conditions: [{type: Ready, status: 'True', reason: Applied}]}"),
	}
	want := []Result{{Progressing, "waiting for the operator to observe generation 3"}, {Healthy, "schema applied"}}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				res, ok, err := Evaluate(objs[i%2])
				if !assert.NoError(t, err) || !assert.True(t, ok) || !assert.Equal(t, want[i%2], res) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Judge (status, wait, apply, doctor) gives the script's answer on an object being deleted,
// finalizers named, where Argo CD v3.5.1's pre-check says only "Pending deletion"; Get says the
// same in Go for kinds outside the group.
func TestDeletionNamesFinalizers(t *testing.T) {
	for _, kind := range []string{"AtlasMigration", "AtlasSchema", "AtlasDriftCheck"} {
		obj := object(t, "apiVersion: db.atlasgo.io/v1alpha1\nkind: "+kind+
			"\nmetadata: {name: x, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [foregroundDeletion, example.com/x]}")
		want := Result{Progressing, "Pending deletion; blocked by finalizers: foregroundDeletion, example.com/x"}
		assert.Equal(t, want, Judge(obj), kind)
		res, ok := Get(obj)
		assert.True(t, ok)
		assert.Equal(t, want, res, kind)
		assert.Equal(t, want.Message, PendingDeletionMessage(obj.GetFinalizers()))
	}
	cm := object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [example.com/x]}")
	res, ok := Get(cm)
	assert.True(t, ok)
	assert.Equal(t, Result{Progressing, "Pending deletion; blocked by finalizers: example.com/x"}, res)
}

// The project's own evaluator gives a script that hit Argo CD's one-second limit a second run
// with a long limit (a starved machine must not turn into a verdict); an evaluator of user
// scripts stops at the first limit, as Argo CD does. Only lower bounds on time are checked: a
// run cannot end before its limits, however busy the machine.
func TestPatientEvaluatorRunsAgain(t *testing.T) {
	defer func(d time.Duration) { hangGuard = d }(hangGuard)
	hangGuard = 2 * time.Second
	e, err := NewEvaluator(map[string]Override{"example.com/Widget": {HealthLua: "while true do end"}})
	require.NoError(t, err)
	obj := object(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}")

	res, ok, err := e.Evaluate(obj)
	require.True(t, ok)
	require.ErrorIs(t, err, lua.ErrTimeLimit)
	assert.Equal(t, Unknown, res.Status)
	assert.Contains(t, res.Message, "context deadline exceeded")

	e.patient = true
	start := time.Now()
	res, _, err = e.Evaluate(obj)
	require.ErrorIs(t, err, lua.ErrTimeLimit)
	assert.Equal(t, Unknown, res.Status)
	assert.GreaterOrEqual(t, time.Since(start), lua.Timeout+hangGuard, "the second run has its own limit")
	assert.True(t, Default().patient)
}
