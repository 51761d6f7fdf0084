package secretleak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

func gvrOf(kind string) schema.GroupVersionResource {
	if kind == atlas.KindAtlasSchema {
		return atlas.SchemaGVR
	}
	return atlas.MigrationGVR
}

// failAs creates an Atlas object and writes the status the operator writes for a failure, with
// message as the condition message (the operator copies atlas errors there verbatim); for reason
// ApprovalPending a pending status whose approval URL carries message as a token.
func failAs(t testing.TB, ns, kind, name, reason, message string) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	spec := map[string]any{"urlFrom": map[string]any{"secretKeyRef": map[string]any{"name": "db", "key": "url"}}}
	if kind == atlas.KindAtlasMigration {
		spec["dir"] = map[string]any{"configMapRef": map[string]any{"name": name + "-migrations"}}
	} else {
		spec["schema"] = map[string]any{"sql": "CREATE TABLE t (id int);"}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"leak": "yes"}},
		"spec":     spec,
	}}
	got, err := dyn.Resource(gvrOf(kind)).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
	require.NoError(t, err)
	st := operator.Failed(reason, message)
	if reason == operator.ReasonApprovalPending {
		st.PlanURL = "https://acme.atlasgo.cloud/plans/1?token=" + message
		st.Message = "plan approval pending, review here: " + st.PlanURL
	}
	got, err = operator.Fake{Client: dyn}.Set(ctx, kind, ns, name, st)
	require.NoError(t, err)
	return got
}

// Operator messages holding every shape, on both kinds, through every verb that shows them and
// every output format.
func TestOperatorMessages(t *testing.T) {
	shapes := corpus("op")
	ns := newNamespace(t, "op")
	dir := t.TempDir()
	objFiles := failingObjects(t, ns, dir, shapes)
	// plans waiting for approval, their URLs carrying a token (status -o wide shows the URL)
	approval := corpus("appr")
	for i, sh := range approval[:3] {
		failAs(t, ns, atlas.KindAtlasMigration, fmt.Sprintf("a-%d", i), "ApprovalPending", sh.secret)
		failAs(t, ns, atlas.KindAtlasSchema, fmt.Sprintf("p-%d", i), "ApprovalPending", sh.secret)
	}
	failing := len(shapes)
	shapes = append(shapes, approval[:3]...)
	// argocd-cm as generated, with useOpenLibs (the default): the scripts' own Lua redaction is
	// what prints then
	cm := filepath.Join(dir, "argocd-cm.yaml")
	openLibs := run(context.Background(), "healthcheck", "generate")
	ran(t, openLibs, 0)
	require.Contains(t, openLibs.stdout, "  resource.customizations.useOpenLibs.db.atlasgo.io_AtlasMigration: \"true\"\n")
	require.Contains(t, openLibs.stdout, "  resource.customizations.useOpenLibs.db.atlasgo.io_AtlasSchema: \"true\"\n")
	require.NoError(t, os.WriteFile(cm, []byte(openLibs.stdout), 0o600))

	ctx := context.Background()
	for _, args := range [][]string{
		{"status", "-n", ns},
		{"status", "-n", ns, "-o", "wide"},
		{"status", "-n", ns, "-o", "json"},
		{"status", "-n", ns, "-o", "yaml"},
		{"status", "-A", "-l", "leak=yes", "-o", "wide"},
		{"status", "-n", ns, "atlasmigration/m-0", "atlasschema/s-3"},
		{"healthcheck", "test", "-n", ns},
		{"healthcheck", "test", "-n", ns, "atlasmigrations,atlasschemas"},
		{"healthcheck", "test", "-n", ns, "--argocd-cm", cm},
	} {
		r := run(ctx, args...)
		ran(t, r, exitcode.OK, exitcode.Degraded)
		noLeak(t, r, shapes, nil)
	}
	for _, f := range objFiles {
		for _, args := range [][]string{{"healthcheck", "test", "-f", f}, {"healthcheck", "test", "-f", f, "--argocd-cm", cm}} {
			r := run(ctx, args...)
			ran(t, r, exitcode.OK, exitcode.Degraded)
			noLeak(t, r, shapes, nil)
		}
	}
	for i := range failing {
		for _, args := range [][]string{
			{"wait", "-n", ns, fmt.Sprintf("atlasmigration/m-%d", i), "--timeout", "10s"},
			{"wait", "-n", ns, fmt.Sprintf("atlasschema/s-%d", i), "--timeout", "0"},
		} {
			r := run(ctx, args...)
			ran(t, r, exitcode.Degraded)
			noLeak(t, r, shapes, nil)
		}
	}
	r := run(ctx, "wait", "-n", ns, "--all", "--timeout", "10m") // Degraded at once; the limit only guards a hang
	ran(t, r, exitcode.Degraded)
	noLeak(t, r, shapes, nil)
	// waiting on a plan that waits for approval prints its URL even off a terminal
	for _, ref := range []string{"atlasmigration/a-0", "atlasschema/p-1"} {
		r := run(ctx, "wait", "-n", ns, ref, "--timeout", "2s")
		ran(t, r, exitcode.Timeout)
		require.Contains(t, r.stderr+r.stdout, "acme.atlasgo.cloud", "the approval URL is shown")
		noLeak(t, r, shapes, nil)
	}

	// apply of the unchanged objects (same generation: the failed status stays) and --wait
	for _, f := range objFiles[:4] {
		r := run(ctx, "apply", "-f", strings.TrimSuffix(f, ".yaml")+".manifest.yaml", "--wait", "--timeout", "10m")
		ran(t, r, exitcode.Degraded)
		noLeak(t, r, shapes, nil)
	}

	// --watch prints the table, then changes: cut it short once the table is out
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &cancelOn{text: "m-0", cancel: cancel}
	_ = plugin.Main(wctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}, []string{"--kubeconfig", env.Kubeconfig, "status", "-n", ns, "--watch"})
	r = result{stdout: out.String()}
	require.Contains(t, r.stdout, "m-0", "the watch printed the table")
	noLeak(t, r, shapes, nil)
}

// failingObjects makes an AtlasMigration and an AtlasSchema fail with each shape in their
// condition messages, and writes each one to dir twice: as read back (status included) and as a
// manifest to apply. It returns the read-back files.
func failingObjects(t *testing.T, ns, dir string, shapes []shape) []string {
	t.Helper()
	var objFiles []string
	for i, sh := range shapes {
		for _, kind := range []string{atlas.KindAtlasMigration, atlas.KindAtlasSchema} {
			reason := "ReadingMigrationData"
			if kind == atlas.KindAtlasSchema {
				reason = "ApplyingSchema"
			}
			name := fmt.Sprintf("%s-%d", map[string]string{atlas.KindAtlasMigration: "m", atlas.KindAtlasSchema: "s"}[kind], i)
			obj := failAs(t, ns, kind, name, reason, "Error: "+sh.text+"\nsecond line "+sh.text)
			b, err := yaml.Marshal(obj.Object)
			require.NoError(t, err)
			f := filepath.Join(dir, name+".yaml")
			require.NoError(t, os.WriteFile(f, b, 0o600))
			objFiles = append(objFiles, f)
			manifest := &unstructured.Unstructured{Object: map[string]any{"apiVersion": obj.GetAPIVersion(), "kind": kind,
				"metadata": map[string]any{"name": name, "namespace": ns, "labels": obj.GetLabels()}, "spec": obj.Object["spec"]}}
			if b, err = yaml.Marshal(manifest.Object); err == nil {
				err = os.WriteFile(filepath.Join(dir, name+".manifest.yaml"), b, 0o600)
			}
			require.NoError(t, err)
		}
	}
	return objFiles
}

// cancelOn collects output and cancels the run once it holds text: the end of a --watch is an
// event, not a time.
type cancelOn struct {
	mu     sync.Mutex
	b      strings.Builder
	text   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Write(p)
	if strings.Contains(c.b.String(), c.text) {
		c.cancel()
	}
	return len(p), nil
}

func (c *cancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}
