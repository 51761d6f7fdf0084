package secretleak

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// manifests are a Secret holding every secret of shapes (data and stringData) and an
// AtlasMigration with an inline URL, as users write them.
func manifests(ns string, shapes []shape) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: %s\nstringData:\n", ns)
	for i, sh := range shapes[:len(shapes)/2] {
		fmt.Fprintf(&b, "  k%d: %q\n", i, sh.text)
	}
	b.WriteString("data:\n")
	for i, sh := range shapes[len(shapes)/2:] {
		fmt.Fprintf(&b, "  d%d: %s\n", i, base64.StdEncoding.EncodeToString([]byte(sh.text)))
	}
	fmt.Fprintf(&b, `---
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata:
  name: app
  namespace: %s
spec:
  url: %q
  dir:
    configMapRef: {name: app-migrations}
`, ns, shapes[0].text)
	return b.String()
}

// Secret data and inline URLs in files: apply (real, server and client dry run, invalid objects
// the API server rejects), healthcheck test on the files and on the live Secret.
func TestSecretData(t *testing.T) {
	shapes := corpus("data")
	ns := newNamespace(t, "data")
	dir := t.TempDir()
	f := write(t, dir, "all.yaml", manifests(ns, shapes))
	// rejected: a Secret whose data is not base64, an AtlasMigration with an unknown execOrder
	// (the API server's errors quote the values they reject)
	bad := write(t, dir, "bad.yaml", fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: bad, namespace: %s}
data: {password: "%s"}
`, ns, shapes[3].secret+"!!"))
	badAtlas := write(t, dir, "bad-atlas.yaml", fmt.Sprintf(`apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: bad, namespace: %s}
spec:
  url: %q
  execOrder: sideways
  dir: {configMapRef: {name: x}}
`, ns, shapes[2].text))
	ctx := context.Background()
	for _, tc := range []struct {
		args  []string
		codes []int
	}{
		{[]string{"apply", "-f", f, "--dry-run=client"}, []int{exitcode.OK}},
		{[]string{"apply", "-f", f, "--dry-run=server"}, []int{exitcode.OK}},
		{[]string{"apply", "-f", f}, []int{exitcode.OK}},
		{[]string{"apply", "-f", f, "--wait", "--timeout", "2s"}, []int{exitcode.Timeout}},
		{[]string{"apply", "-f", bad}, []int{exitcode.Failure}},
		{[]string{"apply", "-f", bad, "--dry-run=server"}, []int{exitcode.Failure}},
		{[]string{"apply", "-f", badAtlas}, []int{exitcode.Failure}},
		{[]string{"healthcheck", "test", "-f", f}, []int{exitcode.OK, exitcode.Degraded}},
		{[]string{"healthcheck", "test", "-n", ns, "secret/db", "atlasmigration/app"}, []int{exitcode.OK, exitcode.Degraded}},
		{[]string{"status", "-n", ns, "-o", "yaml"}, []int{exitcode.OK}},
		{[]string{"status", "-n", ns, "-o", "json"}, []int{exitcode.OK}},
		{[]string{"wait", "-n", ns, "atlasmigration/app", "--timeout", "1s"}, []int{exitcode.Timeout}},
	} {
		r := run(ctx, tc.args...)
		ran(t, r, tc.codes...)
		noLeak(t, r, shapes, nil)
	}
	// the Secret really holds the values (the test would prove nothing otherwise)
	s, err := kc.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, shapes[0].text, string(s.Data["k0"]))
	_ = corev1.SecretTypeOpaque
}
