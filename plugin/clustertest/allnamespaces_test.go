package clustertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// wait --all -A covers every namespace, with a label selector to keep to this test's objects.
func TestWaitAllNamespaces(t *testing.T) {
	ns1, ns2 := newNamespace(t), newNamespace(t)
	label := map[string]string{"test": "wait-all-namespaces"}
	createAtlas(t, ns1, mig, "a", label)
	createAtlas(t, ns2, mig, "b", label)
	setStatus(t, ns1, mig, "a", applied("1"))
	setStatus(t, ns2, mig, "b", reconciling)
	ch := async(context.Background(), "wait", "atlasmigration", "-l", "test=wait-all-namespaces", "-A", "--timeout", "10m")
	stillRunning(t, ch, time.Second) // b, in the other namespace, is not healthy yet
	setStatus(t, ns2, mig, "b", applied("2"))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.ElementsMatch(t, []string{ns1 + "/atlasmigration/a healthy (version 1)", ns2 + "/atlasmigration/b healthy (version 2)"}, lines(r.stdout))

	r = run(context.Background(), "wait", "atlasmigration/a", "-A")
	assert.Equal(t, exitcode.Usage, r.code)
}

// status --watch -A prints the table with a NAMESPACE column and follows every namespace.
func TestStatusWatchAllNamespaces(t *testing.T) {
	ns1, ns2 := newNamespace(t), newNamespace(t)
	label := map[string]string{"test": "watch-all-namespaces"}
	createAtlas(t, ns1, mig, "a", label)
	ctx, cancel := context.WithCancel(context.Background())
	f := follow(ctx, "status", "-A", "-l", "test=watch-all-namespaces", "--watch")
	f.printed(t, "the first table", func(out string) bool { return len(table(out)) >= 2 })
	createAtlas(t, ns2, mig, "b", label)
	f.printed(t, "the new object", func(out string) bool { return len(table(out)) >= 3 })
	cancel()
	r := await(t, f.ch)
	rows := table(r.stdout)
	require.GreaterOrEqual(t, len(rows), 3, r.stdout)
	assert.Equal(t, []string{"NAMESPACE", "NAME"}, rows[0][:2])
	assert.Equal(t, []string{ns1, "a"}, rows[1][:2])
	assert.Equal(t, []string{ns2, "b"}, rows[2][:2])
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
