// Package operator runs the real Atlas Operator for end-to-end tests and the demo: the test control
// plane (internal/testbed/controlplane), the operator binary built by `make operator` running out of cluster
// against it, executing a real atlas CLI against real databases (SQLite files in the harness's
// directory; a private PostgreSQL from internal/testbed/databases on request). Nothing here plays the
// operator. Every missing part is an error naming the make target that provides it.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// Version is the operator hack/operator pins.
const Version = "v0.7.37"

// Options choose the databases Start provides.
type Options struct {
	// Postgres starts a private PostgreSQL server (Harness.Postgres).
	Postgres bool
}

// Harness is a running control plane + operator (+ databases).
type Harness struct {
	Env *controlplane.Env
	// Dir holds everything the harness writes: the operator's HOME and DATA_DIR, its log,
	// SQLite files. Removed by Stop.
	Dir string
	// Atlas is the atlas the operator runs; AtlasVersion the first line of its `atlas version`.
	Atlas        string
	AtlasVersion string
	Postgres     *databases.Server

	op      *exec.Cmd
	opDone  chan error
	logPath string
}

// Start brings everything up; on error nothing is left running.
func Start(ctx context.Context, opts Options) (h *Harness, err error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	atlasBin, err := AtlasBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-atlas-e2e-")
	if err != nil {
		return nil, err
	}
	h = &Harness{Dir: dir, Atlas: atlasBin, logPath: filepath.Join(dir, "operator.log")}
	defer func() {
		if err != nil {
			err = errors.Join(err, h.Stop())
			h = nil
		}
	}()
	if h.AtlasVersion, err = atlasVersion(ctx, atlasBin); err != nil {
		return h, err
	}
	if opts.Postgres {
		if h.Postgres, err = databases.StartPostgres(ctx); err != nil {
			return h, err
		}
	}
	if h.Env, err = controlplane.Start(controlplane.Options{}); err != nil {
		return h, err
	}
	return h, h.startOperator(ctx, bin)
}

// Binary is $ATLAS_OPERATOR, else bin/atlas-operator at the repository root.
func Binary() (string, error) {
	p := os.Getenv("ATLAS_OPERATOR")
	if p == "" {
		root, err := controlplane.RepoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, "bin", "atlas-operator")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the Atlas Operator binary %s is missing: run `make operator` (or set ATLAS_OPERATOR)", p)
	}
	return p, nil
}

// AtlasBinary is $E2E_ATLAS (what hack/atlas.sh chose), else bin/atlas-compat/atlas at the
// repository root (the community build behind its wrapper), else an official atlas on PATH.
func AtlasBinary() (string, error) {
	if p := os.Getenv("E2E_ATLAS"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("E2E_ATLAS: %w", err)
		}
		return p, nil
	}
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	if p := filepath.Join(root, "bin", "atlas-compat", "atlas"); fileExists(p) {
		return p, nil
	}
	if p, err := exec.LookPath("atlas"); err == nil {
		return p, nil
	}
	return "", errors.New("no atlas CLI: run `make atlas` (builds the community edition from ATLAS_SRC) or install the official one")
}

func atlasVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	line, _, _ := strings.Cut(string(out), "\n")
	if err != nil || !strings.HasPrefix(line, "atlas version v") {
		return "", fmt.Errorf("%s version: %q (%v): the operator needs \"atlas version v...\"; a community build needs bin/atlas-compat/atlas (`make atlas`)", bin, line, err)
	}
	return line, nil
}

// startOperator runs the operator out of cluster and waits until both controllers have workers.
func (h *Harness) startOperator(ctx context.Context, bin string) error {
	home := filepath.Join(h.Dir, "home")
	pathDir := filepath.Join(h.Dir, "path")
	data := filepath.Join(h.Dir, "data")
	for _, d := range []string{filepath.Join(home, ".atlas"), pathDir, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The operator's own HOME (atlas version at start-up); each resource gets its own, see
	// PrepareHome.
	if err := suppressHint(home); err != nil {
		return err
	}
	// The operator execs "atlas" from PATH: our choice goes first.
	if err := os.Symlink(h.Atlas, filepath.Join(pathDir, "atlas")); err != nil {
		return err
	}
	log, err := os.Create(h.logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	h.op = exec.Command(bin, "--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--zap-encoder", "json", "--zap-time-encoding", "rfc3339nano") // JSON: reconcile times are read from it
	h.op.Dir = h.Dir
	h.op.Stdout, h.op.Stderr = log, log
	h.op.Env = append(os.Environ(), "KUBECONFIG="+h.Env.Kubeconfig, "SKIP_VERCHECK=1", "DATA_DIR="+data,
		"PREWARM_DEVDB=true", "HOME="+home, "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	h.op.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.op.Start(); err != nil {
		return fmt.Errorf("starting the Atlas Operator %s: %w", bin, err)
	}
	h.opDone = make(chan error, 1)
	go func() { h.opDone <- h.op.Wait() }()
	deadline := time.After(5 * time.Minute) // a hang guard: a busy machine is slow, not broken
	for strings.Count(h.OperatorLog(), "Starting workers") < 2 {
		select {
		case err := <-h.opDone:
			h.op = nil
			return fmt.Errorf("the Atlas Operator exited at start-up (%v):\n%s", err, h.OperatorLog())
		case <-deadline:
			return fmt.Errorf("the Atlas Operator did not start its controllers within 5 min:\n%s", h.OperatorLog())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// PrepareHome keeps the community build's install hint out of the condition messages of the
// Atlas resource namespace/name, as the official binary has none: the operator runs atlas with
// HOME=$DATA_DIR/<namespace>/<name>, and the hint is printed only when that HOME's
// .atlas/community_error.json holds no recent last_suggested. Call it before creating the
// resource; harmless with the official binary.
func (h *Harness) PrepareHome(namespace, name string) error {
	return suppressHint(filepath.Join(h.Dir, "data", namespace, name))
}

func suppressHint(home string) error {
	if err := os.MkdirAll(filepath.Join(home, ".atlas"), 0o700); err != nil {
		return err
	}
	hint := fmt.Sprintf(`{"last_suggested":%q}`, time.Now().UTC().Format(time.RFC3339))
	return os.WriteFile(filepath.Join(home, ".atlas", "community_error.json"), []byte(hint), 0o644)
}

// OperatorLog is everything the operator logged so far.
func (h *Harness) OperatorLog() string {
	b, _ := os.ReadFile(h.logPath)
	return string(b)
}

// SQLite is a database file in the harness directory (created by atlas on first use).
func (h *Harness) SQLite(name string) databases.SQLite {
	return databases.SQLite{Path: filepath.Join(h.Dir, name+".db")}
}

// Stop stops the operator, the control plane and the databases, and removes Dir.
func (h *Harness) Stop() error {
	var errs []error
	if h.op != nil && h.op.Process != nil {
		_ = syscall.Kill(-h.op.Process.Pid, syscall.SIGTERM)
		select {
		case <-h.opDone:
		case <-time.After(2 * time.Minute):
			_ = syscall.Kill(-h.op.Process.Pid, syscall.SIGKILL)
			<-h.opDone
			errs = append(errs, errors.New("the Atlas Operator did not stop within 2 min; killed"))
		}
		h.op = nil
	}
	if h.Env != nil {
		errs = append(errs, h.Env.Stop())
		h.Env = nil
	}
	if h.Postgres != nil {
		errs = append(errs, h.Postgres.Stop())
		h.Postgres = nil
	}
	if h.Dir != "" {
		errs = append(errs, os.RemoveAll(h.Dir))
	}
	return errors.Join(errs...)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// OperatorSpan is the operator's own time for the first reconcile of namespace/name that ends
// in an event with reason after since, from its JSON log: from the first reconcile log line at or
// after since (logged once `atlas whoami` has returned) to that event. The reconcile lines name no
// object, so this is exact only while one object is being reconciled, as in a sequential test.
func (h *Harness) OperatorSpan(namespace, name, reason string, since time.Time) (start, end time.Time, ok bool) {
	for _, line := range strings.Split(h.OperatorLog(), "\n") {
		var e struct {
			TS     time.Time `json:"ts"`
			Logger string    `json:"logger"`
			Reason string    `json:"reason"`
			Object struct {
				Namespace, Name string
			} `json:"object"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.TS.Before(since) {
			continue
		}
		if start.IsZero() && strings.HasSuffix(e.Logger, ".reconcile") {
			start = e.TS
		}
		if !start.IsZero() && e.Logger == "events" && e.Reason == reason && e.Object.Namespace == namespace && e.Object.Name == name {
			return start, e.TS, true
		}
	}
	return start, end, false
}

// CommunityAtlas is the community atlas CLI itself ($ATLAS_COMMUNITY, else bin/atlas-community,
// built by `make atlas`), for tests that compare their results with atlas's own.
func CommunityAtlas() (string, error) {
	p := os.Getenv("ATLAS_COMMUNITY")
	if p == "" {
		root, err := controlplane.RepoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, "bin", "atlas-community")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the community atlas CLI is missing (%w): run `make atlas` (bin/atlas-community) or set ATLAS_COMMUNITY", err)
	}
	return p, nil
}
