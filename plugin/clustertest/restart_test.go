package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// restartableEnv is a control plane of its own, so stopping its API server leaves the other
// tests' control plane alone.
func restartableEnv(t *testing.T) (kubeconfig string, env *controlplane.Env, cl dynamic.Interface) {
	t.Helper()
	env, err := controlplane.Start(controlplane.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Stop() })
	return env.Kubeconfig, env, dynamic.NewForConfigOrDie(env.Config)
}

func TestWaitSurvivesAPIServerRestart(t *testing.T) {
	kubeconfig, env, cl := restartableEnv(t)
	saved := dyn
	dyn = cl // the helpers below write to this control plane
	t.Cleanup(func() { dyn = saved })
	const ns = "default"
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", reconciling)

	f := follow(context.Background(), "--kubeconfig", kubeconfig, "wait", "-n", ns, "atlasmigration/app", "--timeout", "10m")
	stillRunning(t, f.ch, time.Second)
	require.NoError(t, env.StopAPIServer())
	f.said(t, "unreachable")
	require.NoError(t, env.StartAPIServer())
	// The operator's write lands right after the restart: the wait must see it through a
	// renewed watch or a relist (the new API server's watch cache starts anew).
	setStatus(t, ns, mig, "app", applied("7"))
	r := await(t, f.ch)
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stderr)
	assert.Equal(t, "atlasmigration/app healthy (version 7)\n", r.stdout)
	// Losing the API server is reported even when stderr is not a terminal.
	assert.Contains(t, r.stderr, "unreachable")
	assert.Contains(t, r.stderr, "reachable again")
}
