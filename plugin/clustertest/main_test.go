// Package clustertest runs the in-cluster verbs (status, wait, apply) as a user would, through
// the root command, against the real kube-apiserver + etcd test control plane with the Atlas
// Operator's CRDs. The tests play the operator with the test bed's fake operator
// (internal/testbed/operator), which writes status through the status subresource as the
// operator does.
package clustertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

// One control plane for the package; every test works in its own namespace.
var (
	env *controlplane.Env
	dyn dynamic.Interface
	kc  kubernetes.Interface
)

func TestMain(m *testing.M) {
	// NewerKinds: AtlasDriftCheck of operator v0.8 beside the operator's two kinds.
	controlplane.Main(m, controlplane.Options{NewerKinds: true}, func(e *controlplane.Env) {
		// kubectl's discovery cache of this run, in the control plane's directory (removed with
		// it), not the user's ~/.kube/cache: an earlier control plane on the same port would
		// otherwise answer with its kinds.
		os.Setenv("KUBECACHEDIR", filepath.Join(filepath.Dir(e.Kubeconfig), "cache"))
		env = e
		dyn = dynamic.NewForConfigOrDie(e.Config)
		kc = kubernetes.NewForConfigOrDie(e.Config)
	})
}

var nsCounter atomic.Int32

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), nsCounter.Add(1))
	if len(ns) > 60 {
		ns = ns[len(ns)-60:]
	}
	ns = strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, ns), "-")
	_, err := kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	return ns
}

// result is one run of the plugin.
type result struct {
	code   int
	err    error
	stdout string
	stderr string
	took   time.Duration
}

// hang is how long a test waits for something that takes well under a second on an idle
// machine: a guard against a hang, never a measurement, so far above what a busy machine needs.
const hang = 3 * time.Minute

// run executes `kubectl atlas ARGS...` with the admin kubeconfig (unless --kubeconfig is given).
func run(ctx context.Context, args ...string) result {
	var out, errOut bytes.Buffer
	return runTo(ctx, &out, &errOut, args...)
}

func runTo(ctx context.Context, out, errOut interface {
	io.Writer
	String() string
}, args ...string) result {
	cmd := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut})
	hasKC := false
	for _, a := range args {
		if strings.HasPrefix(a, "--kubeconfig") {
			hasKC = true
		}
	}
	if !hasKC {
		args = append([]string{"--kubeconfig", env.Kubeconfig}, args...)
	}
	cmd.SetArgs(args)
	start := time.Now()
	// What plugin.Main does: Ctrl-C cancels the command's context.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.ExecuteContext(ctx)
	return result{code: exitcode.Code(err), err: err, stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
}

// async runs the plugin in the background.
func async(ctx context.Context, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- run(ctx, args...) }()
	return ch
}

// await is the end of a background run (the test fails if it hangs).
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(hang):
		t.Fatalf("the command did not end within %s", hang)
		return result{}
	}
}

// stillRunning asserts the command has not ended for d: a check that passes more surely the
// slower the machine, so d may be short.
func stillRunning(t *testing.T, ch <-chan result, d time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("the command ended early with %d: %v\nstdout: %s\nstderr: %s", r.code, r.err, r.stdout, r.stderr)
	case <-time.After(d):
	}
}

// syncBuffer is a bytes.Buffer a running command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// following is a background run whose output the test reads as it comes (status --watch).
type following struct {
	ch          <-chan result
	out, errOut *syncBuffer
}

func follow(ctx context.Context, args ...string) *following {
	ch := make(chan result, 1)
	f := &following{ch: ch, out: &syncBuffer{}, errOut: &syncBuffer{}}
	go func() { ch <- runTo(ctx, f.out, f.errOut, args...) }()
	return f
}

// printed waits until the command's stdout satisfies ok: an event, not a time.
func (f *following) printed(t *testing.T, what string, ok func(stdout string) bool) {
	t.Helper()
	f.until(t, what, func() bool { return ok(f.out.String()) })
}

// said waits until the command's stderr holds text.
func (f *following) said(t *testing.T, text string) {
	t.Helper()
	f.until(t, fmt.Sprintf("%q on stderr", text), func() bool { return strings.Contains(f.errOut.String(), text) })
}

func (f *following) until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	guard := time.After(hang)
	for !ok() {
		select {
		case r := <-f.ch:
			t.Fatalf("the command ended before it printed %s: %d %v\nstdout: %s\nstderr: %s", what, r.code, r.err, r.stdout, r.stderr)
		case <-guard:
			t.Fatalf("the command did not print %s within %s; stdout:\n%s\nstderr:\n%s", what, hang, f.out.String(), f.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func gvrOf(kind string) schema.GroupVersionResource {
	if kind == atlas.KindAtlasSchema {
		return atlas.SchemaGVR
	}
	return atlas.MigrationGVR
}

// createAtlas creates an AtlasMigration or AtlasSchema the way a user's manifest would.
func createAtlas(t *testing.T, ns, kind, name string, labels map[string]string) *unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{"urlFrom": map[string]any{"secretKeyRef": map[string]any{"name": name + "-db", "key": "url"}}}
	if kind == atlas.KindAtlasMigration {
		spec["dir"] = map[string]any{"configMapRef": map[string]any{"name": name + "-migrations"}}
	} else {
		spec["schema"] = map[string]any{"sql": "CREATE TABLE t (id int);"}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version,
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       spec,
	}}
	if labels != nil {
		obj.SetLabels(labels)
	}
	got, err := dyn.Resource(gvrOf(kind)).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	require.NoError(t, err)
	return got
}

// The operator's states, as the fake operator of the test bed writes them.
var (
	applied     = operator.Applied
	reconciling = operator.Reconciling
	failed      = operator.Failed
)

// setStatus plays the operator: it writes the status of kind ns/name for state s through the
// status subresource, as the Atlas Operator (>= v0.7.16) does.
func setStatus(t *testing.T, ns, kind, name string, s operator.State) {
	t.Helper()
	_, err := operator.Fake{Client: dyn}.Set(context.Background(), kind, ns, name, s)
	require.NoError(t, err)
}

// bumpGeneration changes the spec, as a user editing the manifest does.
func bumpGeneration(t *testing.T, ns, kind, name string) {
	t.Helper()
	ctx := context.Background()
	ri := dyn.Resource(gvrOf(kind)).Namespace(ns)
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedField(obj.Object, fmt.Sprintf("env-%d", obj.GetGeneration()+1), "spec", "envName"))
	_, err = ri.Update(ctx, obj, metav1.UpdateOptions{})
	require.NoError(t, err)
}
