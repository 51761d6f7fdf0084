package clustertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// complete runs `kubectl atlas __complete ARGS...` as kubectl_complete-atlas does for a shell
// (the last argument is the word being completed) and returns the candidates and the directive.
func complete(t *testing.T, kubeconfig string, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	full := append([]string{"__complete", "--kubeconfig", kubeconfig}, args...)
	r := run(context.Background(), full...)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(last, ":"), "the directive ends the output: %q", r.stdout)
	d, err := strconv.Atoi(last[1:])
	require.NoError(t, err)
	// cobra's own line on stderr, which shells ignore; nothing else may be printed.
	assert.Regexp(t, `^Completion ended with directive: [A-Za-z, ]+\n$`, r.stderr)
	return lines[:len(lines)-1], cobra.ShellCompDirective(d)
}

const (
	noFile        = cobra.ShellCompDirectiveNoFileComp
	noFileNoSpace = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
)

func TestCompletionLiveNames(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app-db", nil)
	createAtlas(t, ns, mig, "audit-db", nil)
	createAtlas(t, ns, sch, "app-db", nil)
	createAtlas(t, ns, sch, "shop", nil)
	other := newNamespace(t)
	createAtlas(t, other, mig, "elsewhere", nil)
	_, err := kc.CoreV1().ConfigMaps(ns).Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-db-migrations"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	kcfg := env.Kubeconfig

	for _, c := range []struct {
		name      string
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"wait kinds", []string{"wait", "-n", ns, ""}, []string{"atlasmigration/", "atlasschema/"}, noFileNoSpace},
		{"wait kind prefix", []string{"wait", "-n", ns, "atlass"}, []string{"atlasschema/"}, noFileNoSpace},
		{"wait names", []string{"wait", "-n", ns, "atlasmigration/"}, []string{"atlasmigration/app-db", "atlasmigration/audit-db"}, noFile},
		{"wait name prefix", []string{"wait", "-n", ns, "atlasmigration/au"}, []string{"atlasmigration/audit-db"}, noFile},
		{"wait second argument", []string{"wait", "-n", ns, "atlasmigration/app-db", "atlasschema/"}, []string{"atlasschema/app-db", "atlasschema/shop"}, noFile},
		{"wait other namespace", []string{"wait", "-n", other, "atlasmigrations/"}, []string{"atlasmigrations/elsewhere"}, noFile},
		{"status names of both kinds", []string{"status", "-n", ns, ""}, []string{"app-db", "audit-db", "shop"}, noFile},
		{"status name prefix", []string{"status", "-n", ns, "s"}, []string{"shop"}, noFile},
		{"status kind/name", []string{"status", "-n", ns, "atlasschema/"}, []string{"atlasschema/app-db", "atlasschema/shop"}, noFile},
		{"status -A", []string{"status", "-A", "e"}, []string{"elsewhere"}, noFile},
		{"healthcheck test kinds", []string{"healthcheck", "test", "-n", ns, ""}, []string{"atlasmigration/", "atlasschema/"}, noFileNoSpace},
		{"healthcheck test kind/name", []string{"healthcheck", "test", "-n", ns, "atlasschema/"}, []string{"atlasschema/app-db", "atlasschema/shop"}, noFile},
		{"healthcheck test any type", []string{"healthcheck", "test", "-n", ns, "cm/"}, []string{"cm/app-db-migrations"}, noFile},
		{"healthcheck test TYPE NAME", []string{"healthcheck", "test", "-n", ns, "atlasmigration", "a"}, []string{"app-db", "audit-db"}, noFile},
		{"namespace flag", []string{"status", "-n", ns[:len(ns)-2]}, nil, noFile},
		{"unknown type", []string{"wait", "-n", ns, "widgets/"}, nil, noFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, d := complete(t, kcfg, c.args...)
			if c.name == "namespace flag" {
				assert.Contains(t, got, ns)
				assert.Contains(t, got, other)
				assert.NotContains(t, got, "kube-system")
			} else {
				assert.Equal(t, c.want, nonEmpty(got))
			}
			assert.Equal(t, c.directive, d)
		})
	}
}

// A server that accepts connections and never answers: completion gives up after its short
// timeout with no candidates and no error text, as kubectl's does.
func TestCompletionUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	kcfg := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kcfg, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: shop}}]
current-context: c
`, l.Addr())), 0o600))
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")

	for _, args := range [][]string{
		{"wait", "atlasmigration/"},
		{"status", ""},
		{"healthcheck", "test", "atlasschema/"},
		{"status", "-n", ""},
	} {
		for _, k := range []string{kcfg, missing} {
			got, d := complete(t, k, args...)
			assert.Empty(t, nonEmpty(got), "%v", args)
			assert.Equal(t, noFile, d, "%v", args)
		}
	}
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
