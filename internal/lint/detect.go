package lint

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// detect splits the files into the base (replayed, not analysed) and the files to analyse, as
// atlas's change detectors do: the last N files, or the first file Git says was added since the
// base revision and every file after it (atlas assumes a linear history), or every file.
func detect(ctx context.Context, d *migdir.Dir, files []*file, o Options) (base, feat []*file, err error) {
	switch {
	case o.Latest > 0 && o.GitBase != "":
		return nil, nil, errors.New("lint: Latest and GitBase are mutually exclusive")
	case o.GitBase != "":
		added, err := gitAdded(ctx, d.Path, o.GitBase)
		if err != nil {
			return nil, nil, err
		}
		for i, f := range files {
			if added[filepath.Base(f.Source)] {
				return files[:i], files[i:], nil
			}
		}
		return files, nil, nil
	case o.Latest > 0 && o.Latest < len(files):
		return files[:len(files)-o.Latest], files[len(files)-o.Latest:], nil
	default:
		return nil, files, nil
	}
}

// gitAdded returns the base names of the files under dir that were added between base and HEAD.
func gitAdded(ctx context.Context, dir, base string) (map[string]bool, error) {
	if dir == "" {
		return nil, errors.New("lint: --git-base needs a directory on disk")
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("--git-base needs git: %w", err)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "--no-pager", "diff", "--name-only", "--diff-filter=A", base, "HEAD", "--", ".")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("git diff %s HEAD in %s: %v: %s", base, dir, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("git diff %s HEAD in %s: %w", base, dir, err)
	}
	added := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			added[filepath.Base(l)] = true
		}
	}
	return added, nil
}
