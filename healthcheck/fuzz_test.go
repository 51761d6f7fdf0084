package healthcheck

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Parsers of user input must return an error, never panic.
func FuzzParseTestFile(f *testing.F) {
	f.Add([]byte("tests:\n- healthStatus: {status: Healthy, message: ok}\n  inputPath: testdata/x.yaml\n"))
	f.Add([]byte("tests: []"))
	f.Add([]byte("tests:\n- healthStatus: {status: Fine}\n  inputPath: x\n"))
	f.Add([]byte("{]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := ParseTestFile(data)
		if err == nil && len(tf.Tests) == 0 {
			t.Fatal("accepted a file without tests")
		}
		_ = IsTestFile(data)
	})
}

func FuzzParseArgoCDConfigMap(f *testing.F) {
	for _, format := range []string{FormatArgoCDConfigMap, FormatLegacy, FormatHelm, FormatKustomize} {
		b, err := Render(GenerateOptions{Format: format})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("kind: ConfigMap\ndata:\n  resource.customizations.health.a_b_c: x\n"))
	f.Add([]byte("kind: ConfigMap\ndata:\n  resource.customizations.useOpenLibs.all: maybe\n"))
	f.Add([]byte("kind: ConfigMap\ndata:\n  resource.customizations: '[1'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ov, err := ParseArgoCDConfigMap(data)
		if err != nil {
			return
		}
		// Whatever parses must also build an evaluator or fail cleanly.
		_, _ = NewEvaluator(ov)
	})
}

// Whatever an object holds (from a user's file or the cluster), our scripts give a verdict
// without a script error.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"metadata":{"generation":2},"status":{"observedGeneration":1}}`))
	f.Add([]byte(`{"status":{"conditions":[null,{"type":"Ready","status":"False","reason":"Migrating","message":"x"}]}}`))
	f.Add([]byte(`{"status":{"conditions":"oops"},"metadata":{"annotations":{"kubectl-atlas.io/target-version":3}}}`))
	f.Add([]byte(`{"metadata":"x","status":[1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := DecodeObjects(append([]byte(`{"apiVersion":"db.atlasgo.io/v1alpha1","kind":"AtlasMigration"}`+"\n---\n"), data...))
		if err != nil || len(objs) < 2 {
			return
		}
		for _, kind := range []string{"AtlasMigration", "AtlasSchema", "AtlasDriftCheck"} { // the generic script too
			u := &unstructured.Unstructured{Object: objs[1].Object}
			u.Object["apiVersion"], u.Object["kind"] = "db.atlasgo.io/v1alpha1", kind
			res, ok, err := Evaluate(u)
			if !ok || err != nil || res.Status == "" || res.Status == Unknown {
				t.Fatalf("%s: %v %v %+v", kind, ok, err, res)
			}
			if res := Judge(u); res.Status == "" || res.Status == Unknown {
				t.Fatalf("%s without the deletion pre-check: %+v", kind, res)
			}
		}
	})
}
