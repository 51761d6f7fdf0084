package argocd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a local git repository Argo CD syncs from (URL: file://<Dir>; no git server).
type Repo struct {
	Dir string
	URL string
	env []string
}

// NewRepo creates an empty repository (branch main) under the harness directory.
func (a *ArgoCD) NewRepo(name string) (*Repo, error) {
	dir := filepath.Join(a.Dir, "repos", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir, URL: "file://" + dir, env: append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(a.Dir, "home", ".gitconfig"),
		"GIT_AUTHOR_NAME=kubectl-atlas e2e", "GIT_AUTHOR_EMAIL=e2e@kubectl-atlas.invalid",
		"GIT_COMMITTER_NAME=kubectl-atlas e2e", "GIT_COMMITTER_EMAIL=e2e@kubectl-atlas.invalid")}
	if _, err := r.Git("init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	return r, nil
}

// Git runs git in the repository and returns its trimmed stdout.
func (r *Repo) Git(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// CommitAll commits every change of the work tree and returns the commit id.
func (r *Repo) CommitAll(message string) (string, error) {
	if _, err := r.Git("add", "-A"); err != nil {
		return "", err
	}
	if _, err := r.Git("commit", "-q", "--no-gpg-sign", "-m", message); err != nil {
		return "", err
	}
	return r.Git("rev-parse", "HEAD")
}
