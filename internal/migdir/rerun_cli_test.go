package migdir_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// TestRerunAtlasCLI runs the Marquez step (testdata/repeatable-growth) with the atlas CLI the
// operator runs (the community build, bin/atlas-community) on a real PostgreSQL. It pins the
// two facts docs/init.md ("With the Atlas Operator") rests on: `atlas migrate status`, from
// which the operator decides whether to apply, ignores the execution order, so a file that
// sorts below the newest applied version is listed as out of order, not pending; and an edit
// leaves the old version's revision row, one more row than the directory has files.
func TestRerunAtlasCLI(t *testing.T) {
	bin := atlasCLI(t)
	ctx := context.Background()
	srv, err := databases.StartPostgres(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	_, err = srv.CreateDatabase(ctx, "cli")
	require.NoError(t, err)
	url := srv.URL("cli")
	growth := filepath.Join("testdata", "repeatable-growth")
	before, after := read(t, filepath.Join(growth, "before"), migdir.FormatFlyway), read(t, filepath.Join(growth, "after"), migdir.FormatFlyway)
	const r = "R__Jobs_view_and_rewrite_function.sql"
	rBefore, rAfter := repeatableVersion(t, before, r), repeatableVersion(t, after, r)
	beforeDir, afterDir := writeDirOf(t, before), writeDirOf(t, after)

	cli := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "atlas %v: %s", args, out)
		return out
	}
	apply := func(dir string) {
		cli("migrate", "apply", "--dir", "file://"+dir, "--url", url, "--exec-order", "non-linear")
	}
	status := func(dir string) (s cliStatus) {
		require.NoError(t, json.Unmarshal(cli("migrate", "status", "--dir", "file://"+dir, "--url", url, "--format", "{{ json . }}"), &s))
		return s
	}

	apply(beforeDir)
	s := status(afterDir)
	require.Equal(t, []string{rAfter}, s.versions(s.Pending), "only what sorts after the newest applied version is pending")
	require.Equal(t, []string{"b74"}, s.versions(s.OutOfOrder))

	// A versioned file added alone sorts below the applied repeatable: nothing pending.
	vOnly := t.TempDir()
	for _, f := range after.Files {
		if f.Name != migdir.SumFile && f.Source != r {
			require.NoError(t, os.WriteFile(filepath.Join(vOnly, f.Name), f.Data, 0o644))
		}
	}
	for _, f := range before.Files {
		if f.Source == r {
			require.NoError(t, os.WriteFile(filepath.Join(vOnly, f.Name), f.Data, 0o644))
		}
	}
	cli("migrate", "hash", "--dir", "file://"+vOnly)
	s = status(vOnly)
	require.Empty(t, s.Pending)
	require.Equal(t, []string{"b74"}, s.versions(s.OutOfOrder))

	// Applied non-linear (what the operator runs once something is pending): both files run.
	apply(afterDir)
	s = status(afterDir)
	require.Empty(t, s.Pending)
	require.Len(t, s.Applied, 6, "a1 a2 b73 b74 and both versions of the repeatable")
	require.Len(t, s.Available, 5)
	revs, err := srv.Query(ctx, "cli", "SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY executed_at, version")
	require.NoError(t, err)
	require.Equal(t, "a1\na2\nb73\n"+rBefore+"\nb74\n"+rAfter, revs)
	cols, err := srv.Query(ctx, "cli", "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'")
	require.NoError(t, err)
	require.Equal(t, "current_run_uuid", cols)
}

type cliStatus struct {
	Pending, OutOfOrder, Applied, Available []struct{ Version string }
}

func (cliStatus) versions(fs []struct{ Version string }) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Version)
	}
	return out
}

// writeDirOf writes a converted directory where the atlas CLI reads it.
func writeDirOf(t *testing.T, d *migdir.Dir) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range d.Files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
	}
	return dir
}

// atlasCLI is the community atlas CLI; a missing binary fails the test (it never skips).
func atlasCLI(t *testing.T) string {
	t.Helper()
	p, err := operator.CommunityAtlas()
	require.NoError(t, err)
	return p
}
