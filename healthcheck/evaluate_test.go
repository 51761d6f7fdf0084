package healthcheck

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
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
