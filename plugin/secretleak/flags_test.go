package secretleak

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// migrations writes a valid migration directory (atlas.sum computed by --hash).
func migrations(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20240101000000_init.sql"), []byte("CREATE TABLE t (id int);\n"), 0o600))
	return dir
}

// urlShapes are the corpus entries that are URLs, for flags taking one.
func urlShapes(shapes []shape) []shape {
	var out []shape
	for _, sh := range shapes {
		if strings.Contains(sh.text, "://") && !strings.ContainsAny(sh.text, " \"") {
			out = append(out, sh)
		}
	}
	return out
}

// Secrets in flags: --url, --dev-url, --schema-url, --repo-url and kubectl's --token, in every
// init output, in errors, and in the files init writes where they do not belong.
func TestFlags(t *testing.T) {
	shapes := corpus("flag")
	ctx := context.Background()
	dir := migrations(t)
	for _, sh := range urlShapes(shapes) {
		t.Run(sh.name, func(t *testing.T) {
			// --schema-url must be atlas://: the error names the flag, not the password
			r := run(ctx, "init", "--schema-url", sh.text, "--name", "app", "-o", "yaml")
			ran(t, r, exitcode.Failure)
			noLeak(t, r, shapes, nil)

			// an inline --url is written because it was asked for: in the manifest only
			out := filepath.Join(t.TempDir(), "atlas")
			for _, args := range [][]string{
				{"init", "--dir", dir, "--hash", "--name", "app", "--url", sh.text, "--dev-url", sh.text, "-o", "yaml"},
				{"init", "--dir", dir, "--hash", "--name", "app", "--url", sh.text, "--out", out},
				{"init", "--dir", dir, "--hash", "--name", "app", "--url", sh.text, "--out", out, "--force", "--argocd-app", "--repo-url", sh.text},
			} {
				r := run(ctx, args...)
				ran(t, r, exitcode.OK)
				noLeak(t, r, shapes, func(line string) bool {
					return strings.HasPrefix(strings.TrimSpace(line), "url: ") || strings.HasPrefix(strings.TrimSpace(line), "devURL: ")
				})
			}
			// the Application is committed to Git: no credentials in it
			app, err := os.ReadFile(filepath.Join(out, "argocd", "application.yaml"))
			require.NoError(t, err)
			assert.NotContains(t, string(app), sh.secret)

			// a conflicting flag: a usage error, nothing echoed
			r = run(ctx, "init", "--dir", dir, "--name", "app", "--url", sh.text, "--url-secret", "db:url")
			ran(t, r, exitcode.Usage)
			noLeak(t, r, shapes, nil)
		})
	}

	// kubectl's connection flags: a token and a server URL with a password that reach nothing
	tok := shapes[0].secret
	for _, args := range [][]string{
		{"--token", tok, "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify", "status"},
		{"--token", tok, "--server", "https://u:" + shapes[1].secret + "@127.0.0.1:1", "status", "-o", "json"},
		{"--token", tok, "--server", "https://127.0.0.1:1", "wait", "atlasmigration/x", "--timeout", "1s"},
		{"--token", tok, "--server", "https://127.0.0.1:1", "healthcheck", "test"},
		// client-go's own klog lines quote the server URL
		{"--server", "https://u:" + shapes[2].secret + "@127.0.0.1:1", "healthcheck", "test"},
	} {
		r := run(ctx, append([]string{"--kubeconfig", "/dev/null"}, args...)...)
		ran(t, r, exitcode.Failure, exitcode.Usage, exitcode.Timeout) // healthcheck test: 2 (resource builder error)
		noLeak(t, r, shapes, nil)
	}
}
