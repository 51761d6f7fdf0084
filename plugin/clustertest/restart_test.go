package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testenv"
)

// restartableEnv is a control plane whose API server ends open watches when it shuts down, as
// a production API server does within its grace period. testenv's API server keeps watches
// open until its 60 s shutdown timeout, so stopping it while a wait runs would hit envtest's
// 20 s stop timeout and leave it killed but marked running.
func restartableEnv(t *testing.T) (kubeconfig string, api *envtest.APIServer, cl dynamic.Interface) {
	t.Helper()
	assets, err := testenv.AssetsDir()
	require.NoError(t, err)
	crds, err := testenv.CRDDir()
	require.NoError(t, err)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "apiserver")
	require.NoError(t, os.Mkdir(certDir, 0o700))
	api = &envtest.APIServer{CertDir: certDir}
	api.Configure().Set("shutdown-watch-termination-grace-period", "1s")
	e := &envtest.Environment{BinaryAssetsDirectory: assets, CRDDirectoryPaths: []string{crds}, ErrorIfCRDPathMissing: true}
	e.ControlPlane.APIServer = api
	cfg, err := e.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	user, err := e.ControlPlane.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, kc, 0o600))
	return kubeconfig, api, dynamic.NewForConfigOrDie(cfg)
}

func TestWaitSurvivesAPIServerRestart(t *testing.T) {
	kubeconfig, api, cl := restartableEnv(t)
	saved := dyn
	dyn = cl // the helpers below write to this control plane
	t.Cleanup(func() { dyn = saved })
	const ns = "default"
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", reconciling)

	ch := async(context.Background(), "--kubeconfig", kubeconfig, "wait", "-n", ns, "atlasmigration/app", "--timeout", "120s")
	stillRunning(t, ch, time.Second)
	require.NoError(t, api.Stop())
	stillRunning(t, ch, 2*time.Second)
	require.NoError(t, api.Start())
	// The operator's write lands right after the restart: the wait must see it through a
	// renewed watch or a relist (the new API server's watch cache starts anew).
	setStatus(t, ns, mig, "app", applied("7"))
	r := await(t, ch, 60*time.Second)
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stderr)
	assert.Equal(t, "atlasmigration/app healthy (version 7)\n", r.stdout)
	// Losing the API server is reported even when stderr is not a terminal.
	assert.Contains(t, r.stderr, "unreachable")
	assert.Contains(t, r.stderr, "reachable again")
}
