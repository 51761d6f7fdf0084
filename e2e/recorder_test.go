//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// recorder watches every Atlas resource while the journeys run and keeps the first object of
// each distinct status (per kind, journey, Ready status, reason and message shape). Each one is
// also judged twice: by the project's health script and by the operator's own kstatus
// conditions; a disagreement fails the run. With -record the statuses become fixtures in
// healthcheck/resource_customizations (recorded-*.yaml, listed in each kind's health_test.yaml).
type recorder struct {
	mu       sync.Mutex
	seen     map[string]*unstructured.Unstructured
	order    []string
	problems []string
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

func startRecorder(ctx context.Context, dyn dynamic.Interface) (*recorder, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &recorder{seen: map[string]*unstructured.Unstructured{}, cancel: cancel}
	for _, gvr := range []struct{ kind string }{{atlas.KindAtlasMigration}, {atlas.KindAtlasSchema}} {
		res := atlas.MigrationGVR
		if gvr.kind == atlas.KindAtlasSchema {
			res = atlas.SchemaGVR
		}
		w, err := dyn.Resource(res).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			cancel()
			return nil, err
		}
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					if u, ok := ev.Object.(*unstructured.Unstructured); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
						r.observe(u)
					}
				}
			}
		}()
	}
	return r, nil
}

func (r *recorder) stop() {
	r.cancel()
	r.done.Wait()
}

var digits = regexp.MustCompile(`[0-9]+`)

// journey is the namespace without its counter: the test that made the object.
func journey(ns string) string {
	if i := strings.LastIndexByte(ns, '-'); i > 0 {
		return ns[:i]
	}
	return ns
}

func (r *recorder) observe(u *unstructured.Unstructured) {
	// Distinct across journeys: the same state reached twice is one fixture, named after the
	// journey that reached it first.
	ready := condition(u, "Ready")
	_, hasVersion, _ := unstructured.NestedString(u.Object, "status", "lastAppliedVersion")
	key := strings.Join([]string{u.GetKind(), nested(ready, "status"), nested(ready, "reason"),
		shape(nested(ready, "message")),
		strconv.FormatBool(u.GetGeneration() == observedGeneration(u)), strconv.FormatBool(hasVersion)}, "|")
	res, ok, err := healthcheck.Evaluate(u)
	want := kstatusHealth(u)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil || !ok:
		r.problems = append(r.problems, fmt.Sprintf("%s %s/%s: no health (%v)", u.GetKind(), u.GetNamespace(), u.GetName(), err))
	case res.Status != want:
		r.problems = append(r.problems, fmt.Sprintf("%s %s/%s: the health script says %s (%s), the operator's conditions say %s; status: %v",
			u.GetKind(), u.GetNamespace(), u.GetName(), res.Status, res.Message, want, u.Object["status"]))
	}
	if _, dup := r.seen[key]; !dup {
		r.seen[key] = u.DeepCopy()
		r.order = append(r.order, key)
	}
}

// kstatusHealth is what the operator's own conditions say, independently of our script, read
// as kstatus reads them: conditions written for an older generation say nothing yet (in
// progress; the operator can write Stalled for generation 1 after generation 2 exists, when the
// ConfigMap generation 1 named was pruned), Stalled is a failure, Ready=True of the current
// generation (and, for an AtlasMigration with a target version, at that version) is done,
// anything else is in progress.
func kstatusHealth(u *unstructured.Unstructured) healthcheck.HealthStatus {
	if g, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); found && g < u.GetGeneration() {
		return healthcheck.Progressing
	}
	if nested(condition(u, "Stalled"), "status") == "True" {
		return healthcheck.Degraded
	}
	if nested(condition(u, "Ready"), "status") != "True" || observedGeneration(u) != u.GetGeneration() {
		return healthcheck.Progressing
	}
	if target := u.GetAnnotations()[atlas.TargetVersionAnnotation]; target != "" && u.GetKind() == atlas.KindAtlasMigration {
		got, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedVersion")
		if got < target {
			return healthcheck.Progressing
		}
	}
	return healthcheck.Healthy
}

func condition(u *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func nested(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func observedGeneration(u *unstructured.Unstructured) int64 {
	g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return g
}

// shape is what tells two messages apart as states: the start of the first line, numbers
// blanked (an AtlasSchema's apply response differs on every run, its driver does not).
func shape(msg string) string {
	s := digits.ReplaceAllString(firstLine(msg), "N")
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// check returns the disagreements seen so far.
func (r *recorder) check() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// write saves the recorded statuses as fixtures and lists them in each kind's health_test.yaml,
// replacing the previous recording.
func (r *recorder) write(h *operator.Harness) error {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	byKind := map[string][]healthcheck.TestCase{}
	names := map[string]int{}
	for _, key := range r.order {
		u := r.seen[key]
		kind := u.GetKind()
		dir := filepath.Join(root, "healthcheck", "resource_customizations", "db.atlasgo.io", kind)
		if len(byKind[kind]) == 0 {
			old, _ := filepath.Glob(filepath.Join(dir, "testdata", "recorded-*.yaml"))
			for _, f := range old {
				if err := os.Remove(f); err != nil {
					return err
				}
			}
		}
		reason := nested(condition(u, "Ready"), "reason")
		switch g := observedGeneration(u); {
		case reason == "" || g == -1:
			reason = "new"
		case g != u.GetGeneration():
			reason += "-spec-changed" // the API's state after an update, before the operator acts
		}
		base := strings.ToLower("recorded-" + journey(u.GetNamespace()) + "-" + reason)
		names[base]++
		if n := names[base]; n > 1 {
			base += "-" + strconv.Itoa(n)
		}
		obj := sanitize(u, h)
		res, _, err := healthcheck.Default().Evaluate(obj) // unredacted, as Argo CD gives it
		if err != nil {
			return err
		}
		b, err := yaml.Marshal(obj.Object)
		if err != nil {
			return err
		}
		header := fmt.Sprintf("# recorded from the real Atlas Operator %s running %s (kubectl-atlas make e2e RECORD=1)\n# kind: %s, journey: %s, object: %s\n",
			operator.Version, h.AtlasVersion, kind, journey(u.GetNamespace()), u.GetName())
		input := "testdata/" + base + ".yaml"
		if err := os.WriteFile(filepath.Join(dir, input), append([]byte(header), b...), 0o644); err != nil {
			return err
		}
		byKind[kind] = append(byKind[kind], healthcheck.TestCase{HealthStatus: res, InputPath: input})
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		if err := writeTestFile(filepath.Join(root, "healthcheck", "resource_customizations", "db.atlasgo.io", kind, healthcheck.TestFileName), byKind[kind]); err != nil {
			return err
		}
	}
	return nil
}

// recordedMarker separates the hand-written cases of a health_test.yaml from the recorded ones.
const recordedMarker = "# Recorded from the real Atlas Operator by `make e2e RECORD=1` (e2e/recorder_test.go): everything below is rewritten.\n"

// writeTestFile keeps the hand-written part of a health_test.yaml byte for byte and replaces
// the recorded cases after the marker.
func writeTestFile(path string, recorded []healthcheck.TestCase) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b)
	if i := strings.Index(text, recordedMarker); i >= 0 {
		text = text[:i]
	}
	// Argo CD's own layout, field order included (status before message).
	type status struct {
		Status  string `yaml:"status"`
		Message string `yaml:"message,omitempty"`
	}
	type entry struct {
		HealthStatus status `yaml:"healthStatus"`
		InputPath    string `yaml:"inputPath"`
	}
	entries := make([]entry, len(recorded))
	for i, tc := range recorded {
		entries[i] = entry{status{string(tc.HealthStatus.Status), tc.HealthStatus.Message}, tc.InputPath}
	}
	out, err := goyaml.Marshal(entries)
	if err != nil {
		return err
	}
	text += recordedMarker + string(out)
	if _, err := healthcheck.ParseTestFile([]byte(text)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// sanitize drops what changes on every run or is the harness's own (server bookkeeping, the
// temporary directory, the PostgreSQL port and random password), so a re-recording diffs only
// where the operator's behaviour changed.
func sanitize(u *unstructured.Unstructured, h *operator.Harness) *unstructured.Unstructured {
	obj := u.DeepCopy()
	for _, f := range []string{"managedFields", "uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	b, _ := yaml.Marshal(obj.Object)
	s := strings.ReplaceAll(string(b), h.Dir, "/var/lib/e2e")
	if pg := h.Postgres; pg != nil {
		s = strings.ReplaceAll(s, pg.Password, "pg-password")
		s = strings.ReplaceAll(s, "127.0.0.1:"+strconv.Itoa(pg.Port), "127.0.0.1:5432")
	}
	var m map[string]any
	_ = yaml.Unmarshal([]byte(s), &m)
	return &unstructured.Unstructured{Object: m}
}
