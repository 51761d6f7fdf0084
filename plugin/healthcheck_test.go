package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

func runHealthcheck(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"healthcheck"}, args...))
	err := cmd.Execute()
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), exitcode.Code(err)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestHealthcheckGenerate(t *testing.T) {
	for _, format := range []string{"argocd-cm", "legacy", "helm", "kustomize"} {
		t.Run(format, func(t *testing.T) {
			out, _, code := runHealthcheck(t, "generate", "--format", format)
			require.Equal(t, 0, code)
			want, err := healthcheck.Render(healthcheck.GenerateOptions{Format: format})
			require.NoError(t, err)
			assert.Equal(t, string(want), out)
			again, _, _ := runHealthcheck(t, "generate", "--format", format)
			assert.Equal(t, out, again, "deterministic")
			// What we generate, we read back.
			ov, err := healthcheck.ParseArgoCDConfigMap([]byte(out))
			require.NoError(t, err)
			assert.Len(t, ov, 2)
			for k, o := range ov {
				assert.True(t, o.UseOpenLibs, "%s: useOpenLibs by default (the scripts redact with the string library)", k)
			}
			closed, _, code := runHealthcheck(t, "generate", "--format", format, "--open-libs=false")
			require.Equal(t, 0, code)
			ov, err = healthcheck.ParseArgoCDConfigMap([]byte(closed))
			require.NoError(t, err)
			assert.Len(t, ov, 2)
			for k, o := range ov {
				assert.False(t, o.UseOpenLibs, "%s: --open-libs=false", k)
			}
		})
	}
	out, _, code := runHealthcheck(t, "generate", "--format", "lua", "--kind", "atlasmigration")
	require.Equal(t, 0, code)
	s, _ := healthcheck.Script("AtlasMigration")
	assert.Equal(t, s, out)
	out, _, code = runHealthcheck(t, "generate", "--format", "lua", "--kind", "AtlasDriftCheck")
	require.Equal(t, 0, code)
	s, _ = healthcheck.Script(healthcheck.GenericKind)
	assert.Equal(t, s, out, "any other kind of the group: the generic script")
	out, _, code = runHealthcheck(t, "generate", "--wildcard")
	require.Equal(t, 0, code)
	ov, err := healthcheck.ParseArgoCDConfigMap([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, healthcheck.Override{HealthLua: s, UseOpenLibs: true}, ov["db.atlasgo.io/*"])

	for _, args := range [][]string{{"--format", "lua"}, {"--format", "xml"}, {"--kind", "deployment"}, {"--kind", "AtlasDriftCheck", "--wildcard"}, {"extra"}} {
		_, errOut, code := runHealthcheck(t, append([]string{"generate"}, args...)...)
		assert.Equal(t, exitcode.Usage, code, "%v: %s", args, errOut)
	}
}

func TestHealthcheckTestFixtures(t *testing.T) {
	out, errOut, code := runHealthcheck(t, "test", "-f", "../healthcheck/resource_customizations")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "103 checked, 103 passed, 0 failed")
	// Printed messages never carry the fixtures' passwords.
	assert.NotContains(t, out, "S3cr3t!")
	assert.NotContains(t, out, "hunter2")
	assert.Contains(t, out, "mysql://shop:xxxxx@db.shop.svc")
}

const hostileObject = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
status: {phase: Ready}
`

func TestHealthcheckTestFailingCase(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "widget/testdata/w.yaml", hostileObject)
	writeFile(t, dir, "widget/health.lua", `return {status = "Healthy", message = obj.status.phase}`)
	writeFile(t, dir, "widget/health_test.yaml", `tests:
- healthStatus: {status: Healthy, message: Ready}
  inputPath: testdata/w.yaml
- healthStatus: {status: Degraded, message: Ready}
  inputPath: testdata/w.yaml
`)
	out, errOut, code := runHealthcheck(t, "test", "-f", dir)
	assert.Equal(t, exitcode.Degraded, code)
	assert.Contains(t, out, "PASS  Widget default/w")
	assert.Contains(t, out, "want: Degraded \"Ready\"\n      got:  Healthy \"Ready\"")
	assert.Contains(t, errOut, "1 of 2 health checks failed")

	writeFile(t, dir, "bad/health_test.yaml", "tests:\n- healthState: {status: Healthy}\n  inputPath: x.yaml\n")
	_, errOut, code = runHealthcheck(t, "test", "-f", filepath.Join(dir, "bad", "health_test.yaml"))
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, errOut, `unknown field "healthState"`)
}

// Scripts from a user's argocd-cm: any group/kind, both formats, useOpenLibs honoured, and
// hostile scripts end as Unknown with the error within Argo CD's time limit.
func TestHealthcheckTestArgoCDCM(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	obj := writeFile(t, dir, "w.yaml", hostileObject)
	tests := []struct {
		name, script string
		openLibs     bool
		code         int
		want         []string
	}{
		{"works", `return {status = "Healthy", message = obj.status.phase}`, false, 0, []string{"OK    Widget default/w", "Healthy: Ready"}},
		{"endless loop", `while true do end`, false, exitcode.Degraded, []string{"Unknown: <string>:1: context deadline exceeded"}},
		{"runtime error", `local s = obj.status.missing.field`, false, exitcode.Degraded, []string{"Unknown: <string>:1: attempt to index a non-table object(nil) with key 'field'"}},
		{"os.execute without open libs", `os.execute("touch ` + marker + `") return {status = "Healthy"}`, false, exitcode.Degraded, []string{"Unknown: <string>:1: attempt to index a non-table object(nil) with key 'execute'"}},
		{"string library without open libs", `return {status = "Healthy", message = string.upper("x")}`, false, exitcode.Degraded, []string{"attempt to index a non-table object(nil) with key 'upper'"}},
		{"string library with open libs", `return {status = "Healthy", message = string.upper("x")}`, true, 0, []string{"Healthy: X"}},
		{"syntax error", `return {status = `, false, exitcode.Degraded, []string{"Unknown: <string> at EOF:   syntax error"}},
		{"invalid status", `return {status = "healthy"}`, false, 0, []string{"Unknown: Lua returned an invalid health status"}},
		{"not a table", `return "Healthy"`, false, exitcode.Degraded, []string{"Unknown: expect table output from Lua script, not string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, legacy := range []bool{false, true} {
				var cm string
				if legacy {
					cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n  resource.customizations: |\n    example.com/Widget:\n      health.lua: |\n        " +
						tt.script + "\n      health.lua.useOpenLibs: " + map[bool]string{true: "true", false: "false"}[tt.openLibs] + "\n"
				} else {
					cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n  resource.customizations.health.example.com_Widget: |\n    " + tt.script + "\n"
					if tt.openLibs {
						cm += "  resource.customizations.useOpenLibs.example.com_Widget: \"true\"\n"
					}
				}
				cmPath := writeFile(t, dir, "argocd-cm.yaml", cm)
				out, errOut, code := runHealthcheck(t, "test", "--argocd-cm", cmPath, "-f", obj)
				assert.Equal(t, tt.code, code, "legacy=%v\n%s%s", legacy, out, errOut)
				for _, w := range tt.want {
					assert.Contains(t, out, w, "legacy=%v", legacy)
				}
			}
			assert.NoFileExists(t, marker, "a script ran a command")
		})
	}

	// An object no script covers, and an argocd-cm without scripts.
	cmPath := writeFile(t, dir, "argocd-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n  resource.customizations.health.other.io_Thing: 'return {}'\n")
	out, _, code := runHealthcheck(t, "test", "--argocd-cm", cmPath, "-f", obj)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "SKIP  Widget default/w")
	cmPath = writeFile(t, dir, "argocd-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata: {url: https://argocd.example.com}\n")
	_, errOut, code := runHealthcheck(t, "test", "--argocd-cm", cmPath, "-f", obj)
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, errOut, "holds no health check")
}

// Live objects from the test control plane: the operator is played by writing status.
func TestHealthcheckTestLive(t *testing.T) {
	env, err := controlplane.Start(controlplane.Options{})
	require.NoError(t, err)
	defer func() { _ = env.Stop() }()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(env.Config)

	create := func(ns, name, reason, status, message string) {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": atlas.Group + "/" + atlas.Version, "kind": atlas.KindAtlasMigration,
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"dir": map[string]any{"configMapRef": map[string]any{"name": "m"}}, "url": "mysql://root:pass@db:3306/app"},
		}}
		got, err := dyn.Resource(atlas.MigrationGVR).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
		require.NoError(t, err)
		if reason == "" {
			return
		}
		got.Object["status"] = map[string]any{
			"observedGeneration": got.GetGeneration(),
			"lastAppliedVersion": "3",
			"conditions": []any{map[string]any{"type": "Ready", "status": status, "reason": reason, "message": message,
				"lastTransitionTime": "2026-11-20T10:00:00Z"}},
		}
		_, err = dyn.Resource(atlas.MigrationGVR).Namespace(ns).UpdateStatus(ctx, got, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	for _, ns := range []string{"shop", "blog"} {
		_, err := dyn.Resource(nsGVR).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	create("shop", "applied", "Applied", "True", "")
	create("shop", "broken", "Migrating", "False", "Error: dial mysql://root:pass@db:3306/app failed")
	create("blog", "new", "", "", "")

	kc := "--kubeconfig=" + env.Kubeconfig
	out, errOut, code := runHealthcheck(t, "test", kc, "-n", "shop")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "OK    AtlasMigration shop/applied  cluster\n      Healthy: applied version 3")
	assert.Contains(t, out, "OK    AtlasMigration shop/broken  cluster\n      Degraded: Migrating: Error: dial mysql://root:xxxxx@db:3306/app failed")
	assert.NotContains(t, out, "blog/new")
	assert.Contains(t, out, "2 checked")

	out, _, code = runHealthcheck(t, "test", kc, "-A")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "AtlasMigration blog/new  cluster\n      Progressing: waiting for the operator to observe generation 1")
	assert.Contains(t, out, "3 checked")

	out, _, code = runHealthcheck(t, "test", kc, "-n", "shop", "atlasmigration/broken")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "1 checked")
	assert.Contains(t, out, "shop/broken")

	_, errOut, code = runHealthcheck(t, "test", kc, "-n", "shop", "atlasmigration/missing")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "not found")
}

var nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
