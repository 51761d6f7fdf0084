// Package argocdtest judges kubectl-atlas's health scripts, fixtures and Lua VM with Argo CD's
// own code: util/settings reads the generated argocd-cm, util/lua runs the scripts and
// gitops-engine's pkg/health applies the deletion pre-check, as in the application controller.
package argocdtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/gitops-engine/pkg/health"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	argolua "github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
	log "github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/lua"
)

// customizations is the fixtures folder in Argo CD's resource_customizations layout.
const customizations = "../resource_customizations"

// Argo CD's settings manager logs at info level; keep benchmark output parseable.
func init() { log.SetLevel(log.WarnLevel) }

// overridesFrom loads a generated argocd-cm into Argo CD's settings manager (through a fake
// clientset, as Argo CD's own settings tests do) and returns the resource overrides it reads.
func overridesFrom(t testing.TB, data map[string]string) map[string]appv1.ResourceOverride {
	t.Helper()
	cm := &corev1.ConfigMap{}
	cm.Name, cm.Namespace = "argocd-cm", "argocd"
	cm.Labels = map[string]string{"app.kubernetes.io/part-of": "argocd"}
	cm.Data = data
	secret := &corev1.Secret{}
	secret.Name, secret.Namespace = "argocd-secret", "argocd"
	secret.Labels = map[string]string{"app.kubernetes.io/part-of": "argocd"}
	mgr := settings.NewSettingsManager(context.Background(), fake.NewClientset(cm, secret), "argocd")
	ov, err := mgr.GetResourceOverrides()
	require.NoError(t, err)
	return ov
}

// renderedData is the data of a Render output in the given format (for helm, configs.cm), with
// the generic script for every other kind of the group (--wildcard), without the useOpenLibs
// keys (Argo CD's default VM); tests that want them add them.
func renderedData(t testing.TB, format string) map[string]string {
	t.Helper()
	return renderedDataWith(t, healthcheck.GenerateOptions{Format: format, NoOpenLibs: true, Wildcard: true})
}

func renderedDataWith(t testing.TB, opts healthcheck.GenerateOptions) map[string]string {
	t.Helper()
	format := opts.Format
	b, err := healthcheck.Render(opts)
	require.NoError(t, err)
	var doc struct {
		Data    map[string]string `json:"data"`
		Configs struct {
			CM map[string]string `json:"cm"`
		} `json:"configs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	if format == healthcheck.FormatHelm {
		return doc.Configs.CM
	}
	return doc.Data
}

type fixture struct {
	kind, input string // kind is the object's kind
	want        healthcheck.Result
	obj         *unstructured.Unstructured
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	for _, folder := range append(slices.Clone(healthcheck.Kinds), "_") { // "_": the generic script
		dir := filepath.Join(customizations, "db.atlasgo.io", folder)
		b, err := os.ReadFile(filepath.Join(dir, healthcheck.TestFileName))
		require.NoError(t, err)
		tf, err := healthcheck.ParseTestFile(b)
		require.NoError(t, err)
		for _, tc := range tf.Tests {
			b, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
			require.NoError(t, err)
			objs, err := healthcheck.DecodeObjects(b)
			require.NoError(t, err)
			require.Len(t, objs, 1)
			out = append(out, fixture{kind: objs[0].GetKind(), input: tc.InputPath, want: tc.HealthStatus, obj: objs[0]})
		}
	}
	require.Greater(t, len(out), 100)
	return out
}

// argoScriptHealth is the script's own answer through Argo CD's override (util/lua's
// ResourceHealthOverrides), without gitops-engine's deletion pre-check: what Argo CD after v3.5
// shows for an object being deleted, and what Argo CD's health_test.yaml runner checks.
func argoScriptHealth(t testing.TB, ov map[string]appv1.ResourceOverride, obj *unstructured.Unstructured) (healthcheck.Result, error) {
	t.Helper()
	h, err := argolua.ResourceHealthOverrides(ov).GetResourceHealth(obj)
	if h == nil {
		return healthcheck.Result{}, err
	}
	return healthcheck.Result{Status: healthcheck.HealthStatus(h.Status), Message: h.Message}, err
}

func argoHealth(t testing.TB, ov map[string]appv1.ResourceOverride, obj *unstructured.Unstructured) (healthcheck.Result, error) {
	t.Helper()
	h, err := health.GetResourceHealth(obj, argolua.ResourceHealthOverrides(ov))
	if h == nil {
		return healthcheck.Result{}, err
	}
	return healthcheck.Result{Status: healthcheck.HealthStatus(h.Status), Message: h.Message}, err
}

// Every generated format gives Argo CD the same scripts, byte for byte.
func TestFormatsLoadIntoArgoCD(t *testing.T) {
	want := map[string]string{}
	for _, kind := range append(slices.Clone(healthcheck.Kinds), healthcheck.GenericKind) {
		s, err := healthcheck.Script(kind)
		require.NoError(t, err)
		want["db.atlasgo.io/"+kind] = s
	}
	for _, format := range []string{healthcheck.FormatArgoCDConfigMap, healthcheck.FormatLegacy, healthcheck.FormatHelm, healthcheck.FormatKustomize} {
		t.Run(format, func(t *testing.T) {
			ov := overridesFrom(t, renderedData(t, format))
			for key, script := range want {
				assert.Equal(t, script, ov[key].HealthLua, key)
				assert.False(t, ov[key].UseOpenLibs, key)
			}
			// The default output opens the libraries to our two scripts, and Argo CD reads it so.
			open := overridesFrom(t, renderedDataWith(t, healthcheck.GenerateOptions{Format: format, Wildcard: true}))
			for key, script := range want {
				assert.Equal(t, script, open[key].HealthLua, key)
				assert.True(t, open[key].UseOpenLibs, key)
			}
			// Our own parser reads the same.
			b, err := healthcheck.Render(healthcheck.GenerateOptions{Format: format, Wildcard: true})
			require.NoError(t, err)
			ours, err := healthcheck.ParseArgoCDConfigMap(b)
			require.NoError(t, err)
			for key, script := range want {
				assert.Equal(t, script, ours[key].HealthLua, key)
			}
		})
	}
}

// Every fixture through Argo CD's real code, with our scripts loaded as argocd-cm split keys (and
// the generic one through the db.atlasgo.io/* wildcard) and without open libs, gives the fixture's
// expected (status, message) and the same as our VM. Objects being deleted: see
// TestDeletionBothWays.
func TestFixturesInArgoCD(t *testing.T) {
	ov := overridesFrom(t, renderedData(t, healthcheck.FormatArgoCDConfigMap))
	for _, f := range fixtures(t) {
		t.Run(f.kind+"/"+f.input, func(t *testing.T) {
			got, err := argoScriptHealth(t, ov, f.obj)
			require.NoError(t, err)
			assert.Equal(t, f.want, got, "Argo CD's VM")
			ours, ok, err := healthcheck.Default().EvaluateScript(f.obj)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, got, ours, "our VM")
			if f.obj.GetDeletionTimestamp() != nil {
				return
			}
			got, err = argoHealth(t, ov, f.obj)
			require.NoError(t, err)
			assert.Equal(t, f.want, got, "Argo CD v3.5.1's controller path")
		})
	}
}

// An object being deleted, both ways Argo CD judges it: v3.5.1's controller answers Progressing
// "Pending deletion" before any script runs (gitops-engine's pre-check); Argo CD after v3.5 runs
// the script, which answers Progressing too and names the finalizers left. The verdict is the same
// both ways and the message of v3.5.1 is where ours starts (the same text when no finalizer is
// left); kubectl-atlas's own verbs (healthcheck.Get) give the script's answer.
func TestDeletionBothWays(t *testing.T) {
	for _, open := range []bool{false, true} {
		ov := overridesFrom(t, renderedDataWith(t, healthcheck.GenerateOptions{Format: healthcheck.FormatArgoCDConfigMap, NoOpenLibs: !open, Wildcard: true}))
		deleting := 0
		for _, f := range fixtures(t) {
			if f.obj.GetDeletionTimestamp() == nil {
				continue
			}
			deleting++
			t.Run(fmt.Sprintf("%s/%s/openLibs=%v", f.kind, f.input, open), func(t *testing.T) {
				before, err := argoHealth(t, ov, f.obj)
				require.NoError(t, err)
				assert.Equal(t, healthcheck.Result{Status: healthcheck.Progressing, Message: "Pending deletion"}, before, "v3.5.1")
				ours, _, err := healthcheck.Default().Evaluate(f.obj)
				require.NoError(t, err)
				assert.Equal(t, before, ours, "our VM with v3.5.1's pre-check")

				after, err := argoScriptHealth(t, ov, f.obj)
				require.NoError(t, err)
				assert.Equal(t, f.want, after, "the script, as Argo CD after v3.5 runs it")
				assert.Equal(t, before.Status, after.Status, "the same verdict both ways")
				assert.True(t, strings.HasPrefix(after.Message, before.Message), after.Message)
				if len(f.obj.GetFinalizers()) == 0 {
					assert.Equal(t, before, after)
				} else {
					assert.Equal(t, healthcheck.PendingDeletionMessage(f.obj.GetFinalizers()), after.Message)
				}
				got, ok := healthcheck.Get(f.obj)
				require.True(t, ok)
				assert.Equal(t, after, got, "kubectl-atlas's verbs")
			})
		}
		assert.Equal(t, 4, deleting, "a deleting fixture per kind, and one without finalizers")
	}
}

// With useOpenLibs the scripts redact passwords themselves, and Argo CD then shows exactly what
// kubectl-atlas prints (healthcheck.Evaluate redacts in Go).
func TestFixturesInArgoCDWithOpenLibs(t *testing.T) {
	ov := overridesFrom(t, renderedDataWith(t, healthcheck.GenerateOptions{Format: healthcheck.FormatArgoCDConfigMap, Wildcard: true}))
	redacted := 0
	for _, f := range fixtures(t) {
		t.Run(f.kind+"/"+f.input, func(t *testing.T) {
			got, err := argoHealth(t, ov, f.obj)
			require.NoError(t, err)
			ours, ok, err := healthcheck.Evaluate(f.obj)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, ours, got)
			want := f.want
			if f.obj.GetDeletionTimestamp() != nil {
				want.Message = lua.MessagePendingDeletion // v3.5.1's pre-check answers first
			}
			assert.Equal(t, redact.String(want.Message), got.Message)
			if got.Message != want.Message {
				redacted++
				assert.Contains(t, got.Message, "xxxxx@")
			}
		})
	}
	assert.Equal(t, 3, redacted, "the three fixtures quoting a URL with a password (one recorded from the real operator)")
}

// Argo CD's built-in Atlas checks on the same fixtures, against ours: the table in
// docs/healthcheck.md is this test's output. UPDATE_DOCS=1 rewrites it; otherwise the test fails
// when the documented table no longer matches what Argo CD's code does.
func TestBuiltinDifferencesTable(t *testing.T) {
	builtin := map[string]appv1.ResourceOverride{} // no overrides: Argo CD uses resource_customizations
	var rows []string
	differ, same := 0, 0
	for _, f := range fixtures(t) {
		theirs, err := argoHealth(t, builtin, f.obj)
		require.NoError(t, err)
		if f.kind == "AtlasMigration" || f.kind == "AtlasSchema" {
			require.NotEmpty(t, theirs.Status, "Argo CD ships a built-in check for %s", f.kind)
		}
		if theirs == f.want {
			same++
			continue
		}
		differ++
		rows = append(rows, fmt.Sprintf("| %s | `%s` | %s | %s |", f.kind, strings.TrimSuffix(filepath.Base(f.input), ".yaml"),
			cell(theirs), cell(healthcheck.Result{Status: f.want.Status, Message: redact.String(f.want.Message)})))
	}
	table := fmt.Sprintf("Fixtures: %d; same verdict and message: %d; different: %d.\n\n", same+differ, same, differ) +
		"| kind | fixture (`healthcheck/resource_customizations`) | Argo CD v3.5.1 built-in | kubectl-atlas |\n| --- | --- | --- | --- |\n" +
		strings.Join(rows, "\n") + "\n"
	const begin, end = "<!-- argocd-builtin-diff:begin (generated by healthcheck/argocdtest, UPDATE_DOCS=1) -->\n", "<!-- argocd-builtin-diff:end -->"
	docPath := filepath.Join("..", "..", "docs", "healthcheck.md")
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	require.True(t, i >= 0 && j > i, "%s needs the markers %q and %q", docPath, begin, end)
	updated := string(doc[:i+len(begin)]) + table + string(doc[j:])
	if os.Getenv("UPDATE_DOCS") == "1" {
		require.NoError(t, os.WriteFile(docPath, []byte(updated), 0o644))
		return
	}
	assert.Equal(t, updated, string(doc), "docs/healthcheck.md is out of date: run UPDATE_DOCS=1 go test -run TestBuiltinDifferencesTable in healthcheck/argocdtest")
	assert.Greater(t, differ, 20)
}

// cell renders a verdict for a Markdown table: first line of the message, pipes escaped.
func cell(r healthcheck.Result) string {
	msg := r.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " …"
	}
	if r := []rune(msg); len(r) > 90 {
		msg = string(r[:87]) + "…"
	}
	msg = strings.ReplaceAll(msg, "|", `\|`)
	msg = strings.ReplaceAll(msg, "`", "'")
	if r.Status == "" {
		return "no health check (a sync wave does not wait)"
	}
	if msg == "" {
		return "**" + string(r.Status) + "**"
	}
	return "**" + string(r.Status) + "** " + msg
}
