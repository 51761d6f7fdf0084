// Package argocd runs a real Argo CD v3.5.1 for the GitOps journeys (e2e/): redis, the
// repo-server and the application-controller, built by `make argocd` into bin/argocd, out of
// cluster against the test control plane, syncing from a local git repository (file:// URLs, no
// git server). Nothing here plays Argo CD. Every missing part (binary, redis-server, git,
// kustomize) is an error naming what provides it.
//
// How it runs them follows ../shared/facts/argocd.md, "Running Argo CD locally": the environment
// of Argo CD's own Procfile (ARGOCD_FAKE_IN_CLUSTER maps https://kubernetes.default.svc to the
// test API server), git-verify-wrapper.sh and kustomize on PATH, --client-ca-path ” with
// --disable-tls, --persist-resource-health so each resource's verdict is in the Application.
// Redis is private (its own port and directory, --save ”): nothing of the machine's is touched.
//
// The control plane has no kube-controller-manager: prune's foreground deletion would wait
// forever for the garbage collector. The harness plays that one part of it: it removes the
// foregroundDeletion finalizer from objects Argo CD manages once they are being deleted (none
// has dependents here), as the collector does.
package argocd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// Version is the Argo CD hack/argocd builds.
const Version = "v3.5.1"

// Namespace is where Argo CD's own objects live (Applications, AppProject, argocd-cm).
const Namespace = "argocd"

// Options configure Start.
type Options struct {
	// Kubeconfig is an admin kubeconfig of the control plane; Config the same as a client config.
	Kubeconfig string
	Config     *rest.Config
	// RepoServerPath is put first on the repo-server's PATH (after bin/argocd): where it finds
	// kubectl-atlas for the kustomize generator, as docs/kustomize.md tells users.
	RepoServerPath []string
	// Env is added to both processes' environment (e.g. ARGOCD_SYNC_WAVE_DELAY).
	Env []string
}

// ArgoCD is a running Argo CD.
type ArgoCD struct {
	// Dir holds everything: logs, redis's directory, the processes' HOME and TMPDIR, the git
	// repositories made by NewRepo. Removed by Stop.
	Dir string
	// BinDir is bin/argocd: the binary, kustomize, git-verify-wrapper.sh, the manifests.
	BinDir string
	Dyn    dynamic.Interface
	Kube   kubernetes.Interface

	kubeconfig string
	procs      []*proc
	redisPort  int
	stopGC     context.CancelFunc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  string
}

// BinDir is $ARGOCD_BIN_DIR, else bin/argocd at the repository root; it checks every part.
func BinDir() (string, error) {
	dir := os.Getenv("ARGOCD_BIN_DIR")
	if dir == "" {
		root, err := controlplane.RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "argocd")
	}
	for _, f := range []string{"argocd", "argocd-application-controller", "argocd-repo-server", "kustomize",
		"git-verify-wrapper.sh", "manifests/crds/application-crd.yaml", "manifests/config/argocd-cm.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("Argo CD test bed: %s is missing: run `make argocd` (or set ARGOCD_BIN_DIR)", filepath.Join(dir, f))
		}
	}
	for _, tool := range []string{"redis-server", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("Argo CD test bed: %s not found on PATH: install Debian's %s package", tool, map[string]string{"redis-server": "redis-server", "git": "git"}[tool])
		}
	}
	return dir, nil
}

// Start brings up redis, the repo-server and the application-controller, installs Argo CD's
// CRDs, argocd-cm (and the other config of manifests/base/config) and the default AppProject.
// On error nothing is left running.
func Start(ctx context.Context, opts Options) (a *ArgoCD, err error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-atlas-argocd-")
	if err != nil {
		return nil, err
	}
	a = &ArgoCD{Dir: dir, BinDir: bin, kubeconfig: opts.Kubeconfig}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Stop())
			a = nil
		}
	}()
	if a.Dyn, err = dynamic.NewForConfig(opts.Config); err != nil {
		return a, err
	}
	if a.Kube, err = kubernetes.NewForConfig(opts.Config); err != nil {
		return a, err
	}
	for _, d := range []string{"redis", "home", "tmp", "tls", "ssh", "gpg"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return a, err
		}
	}
	if err := a.install(ctx); err != nil {
		return a, err
	}
	if err := a.startRedis(ctx); err != nil {
		return a, err
	}
	repoPort, err := freePort()
	if err != nil {
		return a, err
	}
	if err := a.startRepoServer(ctx, repoPort, opts); err != nil {
		return a, err
	}
	if err := a.startController(ctx, repoPort, opts); err != nil {
		return a, err
	}
	gcCtx, cancel := context.WithCancel(context.Background())
	a.stopGC = cancel
	go a.playGarbageCollector(gcCtx)
	return a, nil
}

func (a *ArgoCD) env(opts Options, pathFirst []string) []string {
	path := strings.Join(append(append([]string{a.BinDir}, pathFirst...), os.Getenv("PATH")), string(os.PathListSeparator))
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "KUBECONFIG", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PATH="+path,
		"HOME="+filepath.Join(a.Dir, "home"),
		"TMPDIR="+filepath.Join(a.Dir, "tmp"),
		"KUBECONFIG="+a.kubeconfig,
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_GNUPGHOME="+filepath.Join(a.Dir, "gpg"),
		"ARGOCD_ASK_PASS_SOCK="+filepath.Join(a.Dir, "askpass.sock"),
		"ARGOCD_TLS_DATA_PATH="+filepath.Join(a.Dir, "tls"),
		"ARGOCD_SSH_DATA_PATH="+filepath.Join(a.Dir, "ssh"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(a.Dir, "home", ".gitconfig"),
	)
	return append(env, opts.Env...)
}

func (a *ArgoCD) startRedis(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	a.redisPort = port
	p, err := a.spawn("redis", "redis-server", []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", filepath.Join(a.Dir, "redis"), "--protected-mode", "yes"}, os.Environ())
	if err != nil {
		return err
	}
	return a.waitListening(ctx, p, port)
}

func (a *ArgoCD) startRepoServer(ctx context.Context, port int, opts Options) error {
	metrics, err := freePort()
	if err != nil {
		return err
	}
	p, err := a.spawn("repo-server", filepath.Join(a.BinDir, "argocd-repo-server"), []string{
		"--address", "127.0.0.1", "--port", strconv.Itoa(port),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(metrics),
		"--redis", "127.0.0.1:" + strconv.Itoa(a.redisPort),
		"--disable-tls", "--client-ca-path", "",
		"--revision-cache-expiration", "1s",
		"--loglevel", "info",
	}, a.env(opts, opts.RepoServerPath))
	if err != nil {
		return err
	}
	return a.waitListening(ctx, p, port)
}

func (a *ArgoCD) startController(ctx context.Context, repoPort int, opts Options) error {
	metrics, err := freePort()
	if err != nil {
		return err
	}
	p, err := a.spawn("application-controller", filepath.Join(a.BinDir, "argocd-application-controller"), []string{
		"--kubeconfig", a.kubeconfig, "--namespace", Namespace,
		"--redis", "127.0.0.1:" + strconv.Itoa(a.redisPort),
		"--repo-server", "127.0.0.1:" + strconv.Itoa(repoPort), "--repo-server-plaintext",
		"--metrics-port", strconv.Itoa(metrics),
		"--app-resync", "5", "--app-resync-jitter", "0",
		"--persist-resource-health",
		"--loglevel", "info",
	}, a.env(opts, nil))
	if err != nil {
		return err
	}
	return a.waitListening(ctx, p, metrics)
}

// spawn starts a process in its own process group, logging to Dir/<name>.log.
func (a *ArgoCD) spawn(name, bin string, args, env []string) (*proc, error) {
	logPath := filepath.Join(a.Dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = a.Dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { p.done <- cmd.Wait() }()
	a.procs = append(a.procs, p)
	return p, nil
}

// waitListening waits until p accepts connections on port (a hang guard of 3 min: a slow,
// busy machine is not a failure), or p exits.
func (a *ArgoCD) waitListening(ctx context.Context, p *proc, port int) error {
	deadline := time.After(3 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited at start-up (%v):\n%s", p.name, err, tail(p.log))
		case <-deadline:
			return fmt.Errorf("%s did not listen on port %d within 3 min:\n%s", p.name, port, tail(p.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Log is what the named process (redis, repo-server, application-controller) logged so far.
func (a *ArgoCD) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(a.Dir, name+".log"))
	return string(b)
}

// Stop ends the processes (their process groups: repo-server's git and kustomize children too)
// and removes Dir.
func (a *ArgoCD) Stop() error {
	var errs []error
	if a.stopGC != nil {
		a.stopGC()
	}
	for i := len(a.procs) - 1; i >= 0; i-- {
		p := a.procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			errs = append(errs, fmt.Errorf("%s did not stop within 2 min; killed", p.name))
		}
	}
	a.procs = nil
	if a.Dir != "" && os.Getenv("ARGOCD_KEEP_DIR") == "" {
		errs = append(errs, os.RemoveAll(a.Dir))
	}
	return errors.Join(errs...)
}

// Alive reports an error naming each process that has exited.
func (a *ArgoCD) Alive() error {
	var errs []error
	for _, p := range a.procs {
		select {
		case err := <-p.done:
			p.done <- err
			errs = append(errs, fmt.Errorf("%s exited (%v):\n%s", p.name, err, tail(p.log)))
		default:
		}
	}
	return errors.Join(errs...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	const n = 4000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
