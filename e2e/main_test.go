//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/argocd"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

var record = flag.Bool("record", false, "rewrite the recorded health fixtures in healthcheck/resource_customizations")

// One harness (control plane, operator, PostgreSQL) for the package; each test has its own
// namespace and databases.
var (
	h   *operator.Harness
	dyn dynamic.Interface
	kc  kubernetes.Interface
	rec *recorder
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx := context.Background()
	start := time.Now()
	var err error
	h, err = operator.Start(ctx, operator.Options{Postgres: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: control plane, Atlas Operator %s (%s) and PostgreSQL up in %s\n",
		operator.Version, h.AtlasVersion, time.Since(start).Round(time.Millisecond))
	defer func() {
		if err := h.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stop:", err)
		}
	}()
	dyn = dynamic.NewForConfigOrDie(h.Env.Config)
	kc = kubernetes.NewForConfigOrDie(h.Env.Config)
	rec, err = startRecorder(ctx, dyn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: recorder:", err)
		return 1
	}
	argoStart := time.Now()
	var stopArgoCD func()
	acd, stopArgoCD, err = startArgoCD(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: Argo CD:", err)
		return 1
	}
	defer stopArgoCD()
	fmt.Fprintf(os.Stderr, "e2e: Argo CD %s (redis, repo-server, application-controller) up in %s\n", argocd.Version, time.Since(argoStart).Round(time.Millisecond))
	code := m.Run()
	rec.stop()
	problems := rec.check()
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: the health script and the operator's conditions disagree:\n  %s\n", strings.Join(problems, "\n  "))
		code = 1
	}
	timing.report(h)
	if os.Getenv("E2E_OPERATOR_LOG") != "" {
		_ = os.WriteFile(os.Getenv("E2E_OPERATOR_LOG"), []byte(h.OperatorLog()), 0o644)
	}
	// What the operator wrote is real even when a journey failed on the plugin's side; a
	// disagreement between script and conditions is not recorded.
	if *record && len(problems) == 0 {
		if err := rec.write(h); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: writing the recorded fixtures:", err)
			return 1
		}
	}
	return code
}

// timing collects the journeys' measured waits for the closing report.
var timing = &timings{}

type timings struct {
	mu   sync.Mutex
	list []timed
}

type timed struct {
	what, namespace, name string
	start                 time.Time
	took                  time.Duration
}

// set records a wait that began at start and took took, for object namespace/name.
func (t *timings) set(what string, start time.Time, took time.Duration, namespace, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list = append(t.list, timed{what, namespace, name, start, took})
}

// report prints each measured wait beside the operator's own logged time for the same work.
func (t *timings) report(h *operator.Harness) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.list {
		start, end, ok := h.OperatorSpan(m.namespace, m.name, "Applied", m.start)
		if !ok {
			fmt.Fprintf(os.Stderr, "e2e timing: %s: %s; no Applied event for %s/%s in the operator log\n", m.what, m.took.Round(time.Millisecond), m.namespace, m.name)
			continue
		}
		fmt.Fprintf(os.Stderr, "e2e timing: %s: %s; the operator's logged reconcile (first line to Applied event): %s, started %s after the apply began; the plugin returned %s after the event\n",
			m.what, m.took.Round(time.Millisecond), end.Sub(start).Round(time.Millisecond), start.Sub(m.start).Round(time.Millisecond),
			m.start.Add(m.took).Sub(end).Round(time.Millisecond))
	}
}

var nsCounter atomic.Int32

// newNamespace creates a namespace named after the test.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	name = strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name), "-")
	if len(name) > 50 {
		name = name[:50]
	}
	ns := fmt.Sprintf("%s-%d", name, nsCounter.Add(1))
	_, err := kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, h.PrepareHome(ns, "app"), "every journey's Atlas resource is named app")
	return ns
}

// result is one run of the plugin.
type result struct {
	code           int
	err            error
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (%v) after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.took, r.stdout, r.stderr)
}

// run executes `kubectl atlas ARGS...` through the root command with the admin kubeconfig; stderr
// ends with the error line cmd/kubectl-atlas prints.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", h.Env.Kubeconfig}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	err := cmd.ExecuteContext(ctx)
	if err != nil { // as cmd/kubectl-atlas prints it
		fmt.Fprintln(&errOut, "error:", err)
	}
	r := result{code: exitcode.Code(err), err: err, stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	t.Logf("$ kubectl atlas %s\n%s", strings.Join(args, " "), r)
	return r
}

// requireExit asserts the exit code, showing the whole run when it differs.
func requireExit(t *testing.T, r result, code int) {
	t.Helper()
	require.Equal(t, code, r.code, r.String())
}

// writeFiles writes name -> content into dir (created).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

// migrationDir writes an atlas migration directory and its atlas.sum, computed by the real
// atlas CLI (`atlas migrate hash`).
func migrationDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	writeFiles(t, dir, files)
	rehash(t, dir)
}

func rehash(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(h.Atlas, "migrate", "hash", "--dir", "file://"+dir)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(h.Dir, "home"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "atlas migrate hash: %s", out)
}

// secret creates Secret name with key url = the database URL, as a user's secret manager would.
func secret(t *testing.T, ns, name, url string) {
	t.Helper()
	_, err := kc.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		StringData: map[string]string{"url": url},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// noSecrets asserts none of the run's output holds one of the secrets.
func noSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		assert.NotContains(t, r.stdout, s, "a password on stdout")
		assert.NotContains(t, r.stderr, s, "a password on stderr")
	}
}

// lines is the table row of name in a `status` output, or "".
func row(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	return ""
}
