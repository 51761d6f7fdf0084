// Package secretleak proves the README's promise that credentials never appear in output: a
// corpus of secret-bearing inputs (every shape internal/redact knows, in flags, files, operator
// messages written to status, Secret data, kustomize errors) goes through every verb and output
// format, through plugin.Main as the binary runs it, against the real kube-apiserver + etcd test
// control plane; a test fails when any secret value shows up in stdout or stderr.
//
// Every run has a Redactor of its own (one per command tree, as in the binary), so a value one
// scenario registered cannot make another pass; scenarios still get secrets of their own
// (corpus(tag)), so a leak names the scenario it came from.
package secretleak

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

var (
	env *controlplane.Env
	dyn dynamic.Interface
	kc  kubernetes.Interface
)

func TestMain(m *testing.M) {
	controlplane.Main(m, controlplane.Options{}, func(e *controlplane.Env) {
		env = e
		dyn = dynamic.NewForConfigOrDie(e.Config)
		kc = kubernetes.NewForConfigOrDie(e.Config)
	})
}

var nsCounter atomic.Int32

func newNamespace(t testing.TB, tag string) string {
	t.Helper()
	ns := fmt.Sprintf("leak-%s-%d", tag, nsCounter.Add(1))
	_, err := kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	return ns
}

// shape is one secret in one of the forms credentials take in text.
type shape struct {
	name   string
	secret string // the value that must never be printed
	text   string // the text holding it
}

// corpus is every shape internal/redact covers, with secrets unique to tag.
func corpus(tag string) []shape {
	s := func(n int) string { return fmt.Sprintf("Sx%s%02dqK9", tag, n) }
	return []shape{
		{"url", s(1), "postgres://admin:" + s(1) + "@db:5432/app?sslmode=disable"},
		{"url unescaped @", "p@" + s(2), "mysql://root:p@" + s(2) + "@db:3306/app"},
		{"url percent-encoded", s(3) + "/x", "postgres://app:" + url.QueryEscape(s(3)+"/x") + "@db/app"},
		{"operator unparsable url", s(4), `parse "postgres://admin:` + s(4) + `%zz@host/app": invalid URL escape "%zz"`},
		{"PGPASSWORD", s(5), "PGPASSWORD=" + s(5) + " psql -h db"},
		{"DB_PASSWORD", s(6), "env DB_PASSWORD=" + s(6)},
		{"password quoted", s(7), `password="` + s(7) + `"`},
		{"password yaml", s(8), "password: " + s(8)},
		{"json", s(9), `{"user":"app","password":"` + s(9) + `"}`},
		{"authorization bearer", s(10), "Authorization: Bearer " + s(10)},
		{"authorization basic", s(11), "authorization: Basic " + s(11)},
		{"libpq conninfo", s(12), "host=db user=app password=" + s(12) + " dbname=app"},
		{"mysql dsn", s(13), "root:" + s(13) + "@tcp(db:3306)/app"},
		{"jdbc", s(14), "jdbc:postgresql://db:5432/app?user=app&password=" + s(14)},
		{"sslpassword", s(15), "sslmode=verify-full sslpassword=" + s(15)},
		{"token", s(16), "https://api.example.com/x?token=" + s(16)},
		{"secret", s(17), "client secret=" + s(17)},
		{"https token as user", s(18), "https://" + s(18) + "@github.com/acme/deploy.git"},
		{"bearer alone", s(19), "got Bearer " + s(19) + " back"},
		{"escaped json", s(20), `{\"password\":\"` + s(20) + `\"}`},
	}
}

// result is one run of the plugin, exactly as main runs it (the error printed on stderr).
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func run(ctx context.Context, args ...string) result {
	var out, errOut bytes.Buffer
	hasKC := false
	for _, a := range args {
		hasKC = hasKC || strings.HasPrefix(a, "--kubeconfig")
	}
	if !hasKC {
		args = append([]string{"--kubeconfig", env.Kubeconfig}, args...)
	}
	err := plugin.Main(ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return result{args: args, code: exitcode.Code(err), stdout: out.String(), stderr: errOut.String()}
}

// spellings are the forms a secret may be printed in.
func spellings(secret string) []string {
	return []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
}

// noLeak fails when any secret of shapes appears in the output. allowed says which stdout lines
// may carry one: the manifests a verb exists to emit (an inline --url the user asked for).
func noLeak(t *testing.T, r result, shapes []shape, allowed func(line string) bool) {
	t.Helper()
	for _, sh := range shapes {
		for _, sp := range spellings(sh.secret) {
			for _, stream := range []struct{ name, text string }{{"stdout", r.stdout}, {"stderr", r.stderr}} {
				for _, line := range strings.Split(stream.text, "\n") {
					if !strings.Contains(line, sp) {
						continue
					}
					if stream.name == "stdout" && allowed != nil && allowed(line) {
						continue
					}
					t.Errorf("secret of shape %q leaked on %s of `kubectl atlas %s` (exit %d):\n%s",
						sh.name, stream.name, strings.Join(r.args, " "), r.code, line)
				}
			}
		}
	}
}

// ran asserts the verb ran at all (not a usage error that would prove nothing).
func ran(t *testing.T, r result, codes ...int) {
	t.Helper()
	for _, c := range codes {
		if r.code == c {
			return
		}
	}
	t.Fatalf("`kubectl atlas %s`: exit %d, want one of %v\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, codes, r.stdout, r.stderr)
}
