package healthcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/lua"
)

// TestFileName is the name Argo CD gives health test files (beside health.lua).
const TestFileName = "health_test.yaml"

// TestFile is Argo CD's health_test.yaml: each case names an object file (relative to the test
// file) and the exact health Argo CD must give it.
type TestFile struct {
	Tests []TestCase `json:"tests"`
}

// TestCase is one entry of a health_test.yaml.
type TestCase struct {
	HealthStatus Result `json:"healthStatus"`
	InputPath    string `json:"inputPath"`
}

// ParseTestFile reads a health_test.yaml strictly, so a misspelt field is an error rather than a
// case that silently expects an empty message.
func ParseTestFile(data []byte) (*TestFile, error) {
	var tf TestFile
	if err := yaml.UnmarshalStrict(data, &tf); err != nil {
		return nil, err
	}
	if len(tf.Tests) == 0 {
		return nil, errors.New("no tests: want `tests: [{healthStatus: {status: ..., message: ...}, inputPath: ...}]`")
	}
	for i, tc := range tf.Tests {
		if tc.InputPath == "" {
			return nil, fmt.Errorf("tests[%d]: inputPath is empty", i)
		}
		if tc.HealthStatus.Status != "" && !lua.ValidStatus(string(tc.HealthStatus.Status)) {
			return nil, fmt.Errorf("tests[%d]: healthStatus.status %q is not one of Healthy, Progressing, Degraded, Suspended, Missing, Unknown", i, tc.HealthStatus.Status)
		}
	}
	return &tf, nil
}

// IsTestFile tells a health_test.yaml (top-level `tests`, no `kind`) from object YAML.
func IsTestFile(data []byte) bool {
	var probe struct {
		Kind  string `json:"kind"`
		Tests any    `json:"tests"`
	}
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	if err := dec.Decode(&probe); err != nil {
		return false
	}
	return probe.Kind == "" && probe.Tests != nil
}

// Case is the outcome of one test case or of one object without expectation.
type Case struct {
	Source string // file (with #index for test cases) or "cluster"
	Input  string // the inputPath of a test case
	Kind   string
	Name   string // namespace/name or name
	Script string // the argocd-cm key or file whose script ran; "" when none covers the object
	Want   *Result
	Got    Result
	Err    error // the script failed (Got is then Unknown with the error)
}

// Failed reports a case that must fail the run: a script error, a mismatch with the expected
// health, or an expectation for an object no script covers.
func (c Case) Failed() bool {
	if c.Err != nil {
		return true
	}
	if c.Want == nil {
		return false
	}
	return c.Script == "" || *c.Want != c.Got
}

// Runner evaluates objects with an Evaluator, exactly as Argo CD would (no redaction: printing
// is the caller's business).
type Runner struct {
	Evaluator *Evaluator
}

// Object evaluates one object.
func (r *Runner) Object(source string, obj *unstructured.Unstructured) Case {
	return r.object(r.Evaluator, "", source, obj, false)
}

// object judges obj; script leaves out Argo CD v3.5.1's deletion pre-check, as Argo CD's own
// health_test.yaml runner does.
func (r *Runner) object(e *Evaluator, scriptName, source string, obj *unstructured.Unstructured, script bool) Case {
	c := Case{Source: source, Kind: obj.GetKind(), Name: obj.GetName()}
	if ns := obj.GetNamespace(); ns != "" {
		c.Name = ns + "/" + obj.GetName()
	}
	c.Script = e.Lookup(obj.GroupVersionKind().GroupKind())
	if c.Script == "" {
		return c
	}
	if scriptName != "" {
		c.Script = scriptName
	}
	evaluate := e.Evaluate
	if script {
		evaluate = e.EvaluateScript
	}
	res, _, err := evaluate(obj)
	c.Got, c.Err = res, err
	return c
}

// ObjectFile evaluates every object of a YAML or JSON file (several documents and v1 Lists fine).
func (r *Runner) ObjectFile(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := DecodeObjects(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]Case, 0, len(objs))
	for _, o := range objs {
		out = append(out, r.Object(path, o))
	}
	return out, nil
}

// TestFile runs a health_test.yaml. A health.lua beside it (Argo CD's layout) is the script under
// test, without open libs; otherwise the Runner's evaluator picks the script by group/kind. As in
// Argo CD's own runner, the script also judges objects being deleted (no pre-check).
func (r *Runner) TestFile(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tf, err := ParseTestFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	e, scriptName := r.Evaluator, ""
	if src, err := os.ReadFile(filepath.Join(dir, "health.lua")); err == nil {
		scriptName = filepath.Join(dir, "health.lua")
		if e, err = NewEvaluator(map[string]Override{"*": {HealthLua: string(src)}}); err != nil {
			return nil, err
		}
	}
	var out []Case
	for i, tc := range tf.Tests {
		source := fmt.Sprintf("%s#%d", path, i+1)
		input := filepath.Join(dir, filepath.FromSlash(tc.InputPath))
		b, err := os.ReadFile(input)
		if err != nil {
			return nil, fmt.Errorf("%s: tests[%d].inputPath: %w", path, i, err)
		}
		objs, err := DecodeObjects(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
		if len(objs) != 1 {
			return nil, fmt.Errorf("%s: tests[%d].inputPath %s holds %d objects, want exactly one", path, i, tc.InputPath, len(objs))
		}
		c := r.object(e, scriptName, source, objs[0], true)
		c.Input = tc.InputPath
		want := tc.HealthStatus
		c.Want = &want
		out = append(out, c)
	}
	return out, nil
}

// FindTestFiles returns every health_test.yaml under dir, sorted.
func FindTestFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == TestFileName {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// DecodeObjects reads Kubernetes objects from YAML or JSON documents, expanding Lists.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 1; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("YAML document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("YAML document %d is not a Kubernetes object: apiVersion and kind are required", i)
		}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("YAML document %d: %w", i, err)
			}
			for j := range l.Items {
				out = append(out, &l.Items[j])
			}
			continue
		}
		out = append(out, u)
	}
	return out, nil
}
