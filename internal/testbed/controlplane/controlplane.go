// Package controlplane starts the project's test control plane: a real kube-apiserver and etcd
// (built from the Go module proxy by `make testbin`) with the Atlas Operator's real CRDs, loaded
// from the operator module in the module cache. No kubelet and no operator run: tests play the
// operator by writing status through the status subresource.
package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// OperatorModule is the module whose config/crd/bases the control plane loads.
const OperatorModule = "github.com/ariga/atlas-operator"

// Env is a running control plane.
type Env struct {
	env *envtest.Environment
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file, for commands run as a user would.
	Kubeconfig string
	dir        string
}

// Options tune Start.
type Options struct {
	// WithoutCRDs starts a control plane without the operator's CRDs ("CRDs not installed" cases).
	WithoutCRDs bool
	// NewerKinds also installs a kind of a newer operator than the module proxy serves
	// (AtlasDriftCheck of v0.8, NewerKindsCRDDir), for the tests of kinds without a script of
	// their own.
	NewerKinds bool
	// CompactEvery, if set, is the kube-apiserver's --etcd-compaction-interval, and the watch
	// cache is off (--watch-cache=false) so watches go to etcd: a watch from a resourceVersion
	// older than the last compaction then gets the server's real 410 "too old resource version".
	CompactEvery time.Duration
}

// Start launches etcd and kube-apiserver and installs the operator CRDs. Call Stop when done.
func Start(opts Options) (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-atlas-controlplane-")
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{BinaryAssetsDirectory: assets, ErrorIfCRDPathMissing: true,
		// envtest's defaults (20 s to start or stop, 10 s for CRDs to be established) are
		// deadlines a busy machine misses: these are hang guards only.
		ControlPlaneStartTimeout: 5 * time.Minute,
		ControlPlaneStopTimeout:  2 * time.Minute,
	}
	e.CRDInstallOptions.MaxTime = 5 * time.Minute
	// A cert dir of our own survives an API server restart, so the serving CA (and with it
	// every client config handed out) stays valid across RestartAPIServer.
	certDir := filepath.Join(dir, "apiserver")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return nil, err
	}
	e.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
	// Open watches otherwise hold a stop for envtest's whole 20 s limit, after which envtest
	// believes the server still runs and a restart never comes back.
	e.ControlPlane.APIServer.Configure().Set("shutdown-watch-termination-grace-period", "1s")
	if opts.CompactEvery > 0 {
		e.ControlPlane.APIServer.Configure().Set("etcd-compaction-interval", opts.CompactEvery.String())
		e.ControlPlane.APIServer.Configure().Set("watch-cache", "false")
	}
	if !opts.WithoutCRDs {
		crds, err := CRDDir()
		if err != nil {
			return nil, err
		}
		e.CRDDirectoryPaths = []string{crds}
	}
	if opts.NewerKinds {
		dir, err := NewerKindsCRDDir()
		if err != nil {
			return nil, err
		}
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, dir)
	}
	cfg, err := e.Start()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the test control plane from %s: %w", assets, err)
	}
	out := &Env{env: e, Config: cfg, dir: dir}
	out.Kubeconfig, err = out.AddUser("admin", []string{"system:masters"})
	if err != nil {
		_ = out.Stop()
		return nil, err
	}
	return out, nil
}

// AddUser provisions a user with the given groups and returns the path of its kubeconfig file
// (current context set, namespace "default"). A user without groups has no rights until RBAC
// objects grant some.
func (e *Env) AddUser(name string, groups []string) (string, error) {
	u, err := e.env.ControlPlane.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("adding test user %s: %w", name, err)
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.dir, name+".kubeconfig")
	return path, os.WriteFile(path, kc, 0o600)
}

// RestartAPIServer stops the kube-apiserver and starts it again on the same address, keeping
// etcd (and so every object) as it was: what a control plane upgrade looks like to a client.
func (e *Env) RestartAPIServer() error {
	api := e.env.ControlPlane.APIServer
	if err := api.Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return api.Start()
}

// StopAPIServer and StartAPIServer split RestartAPIServer, for tests that act while it is down.
func (e *Env) StopAPIServer() error  { return e.env.ControlPlane.APIServer.Stop() }
func (e *Env) StartAPIServer() error { return e.env.ControlPlane.APIServer.Start() }

// Stop shuts the control plane down and removes the kubeconfig files.
func (e *Env) Stop() error {
	err := e.env.Stop()
	return errors.Join(err, os.RemoveAll(e.dir))
}

// AssetsDir is $KUBEBUILDER_ASSETS, or bin/testbin at the repository root.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "testbin")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("test control plane binary %s not found in %s: run `make testbin` (or set KUBEBUILDER_ASSETS)", bin, dir)
		}
	}
	return dir, nil
}

var (
	crdOnce sync.Once
	crdDir  string
	crdErr  error
)

// CRDDir is the operator module's config/crd/bases in the module cache.
func CRDDir() (string, error) {
	crdOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			crdErr = err
			return
		}
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", OperatorModule)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			crdErr = fmt.Errorf("locating %s in the module cache: %v: %s", OperatorModule, err, stderr.String())
			return
		}
		crdDir = filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "bases")
		if _, err := os.Stat(crdDir); err != nil {
			crdErr = fmt.Errorf("operator CRDs: %w (run `go mod download %s`)", err, OperatorModule)
		}
	})
	return crdDir, crdErr
}

// NewerKindsCRDDir holds CRDs of kinds a newer operator adds to the group (testdata/crds-v0.8).
func NewerKindsCRDDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "internal", "testbed", "controlplane", "testdata", "crds-v0.8"), nil
}

// RepoRoot walks up from the working directory to the directory holding this project's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/kubectl-atlas/kubectl-atlas\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of github.com/kubectl-atlas/kubectl-atlas) not found above the working directory")
		}
		dir = parent
	}
}
