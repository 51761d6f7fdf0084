package migdir_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// TestRerunAtlasCLI runs successive commits of a Flyway directory with repeatables (the Marquez
// step of testdata/repeatable-growth, then a versioned file added alone) with the atlas CLI the
// operator runs (the community build, bin/atlas-community) on a real PostgreSQL, and judges
// each `atlas migrate status` as the Atlas Operator v0.7.37 does (applyChanges in
// internal/controller/atlasmigration_controller.go): apply when status lists a pending file,
// Ready when it lists none, and migrate down (refused by default: Degraded) when it lists none
// and the revisions table has more rows than status has files. status reads the directory in
// atlas's default linear order and, when files sort below the newest applied version, lists
// only the files after it and no available files at all; the change marker is what it lists.
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
	r := newRepo(t, migdir.FormatFlyway)
	before := r.commit(t, readTree(t, filepath.Join(growth, "before")))
	after := r.commit(t, readTree(t, filepath.Join(growth, "after")))
	const rs = "R__Jobs_view_and_rewrite_function.sql"
	rAfter := repeatableVersion(t, after, rs)

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
	// step is one commit reaching the operator: what it decides, then the apply it runs and
	// what its next reconcile (nothing new) decides.
	step := func(d *migdir.Dir, pending []string) {
		t.Helper()
		dir := writeDirOf(t, d)
		s := status(dir)
		require.Equal(t, "apply", s.operator(), "%+v", s)
		require.Equal(t, pending, s.versions(s.Pending))
		apply(dir)
		s = status(dir)
		require.Equal(t, "ready", s.operator(), "%+v", s)
		require.Len(t, s.Applied, len(d.Versions()), "a revision row per file")
		require.Len(t, s.Available, len(d.Versions()))
	}

	step(before, before.Versions())
	// The Marquez step: status lists the new marker as pending (b74 and the edited repeatable
	// sort below the applied marker: out of order); non-linear apply runs all three.
	s := status(writeDirOf(t, after))
	require.ElementsMatch(t, []string{"b74", rAfter}, s.versions(s.OutOfOrder))
	step(after, []string{after.LatestVersion()})
	cols, err := srv.Query(ctx, "cli", "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'")
	require.NoError(t, err)
	require.Equal(t, "current_run_uuid", cols)
	revs, err := srv.Query(ctx, "cli", "SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version")
	require.NoError(t, err)
	require.Equal(t, strings.Join(after.Versions(), "\n"), revs, "the revisions table: one row per file, placeholders included")

	// Without the placeholders (the directory as converted before the ledger) the operator's
	// next reconcile finds nothing pending and more rows than files: migrate down, Degraded.
	bare := *after
	bare.Files = nil
	for _, f := range after.Files {
		if f.Source != migdir.LedgerFile || f.Name[:2] == "zz" && migrate.NewLocalFile(f.Name, nil).Version() == after.LatestVersion() {
			bare.Files = append(bare.Files, f)
		}
	}
	bareDir := writeDirOf(t, &bare)
	cli("migrate", "hash", "--dir", "file://"+bareDir)
	require.Equal(t, "down", status(bareDir).operator())

	// A versioned file added alone, after the repeatables ran.
	files := readTree(t, filepath.Join(growth, "after"))
	files["V75__jobs_note.sql"] = "ALTER TABLE jobs ADD COLUMN note text;\n"
	v75 := r.commit(t, files)
	step(v75, []string{v75.LatestVersion()})
	cols, err = srv.Query(ctx, "cli", "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'note'")
	require.NoError(t, err)
	require.Equal(t, "note", cols)
}

// operator is what the Atlas Operator v0.7.37 does with this status (applyChanges).
func (s cliStatus) operator() string {
	switch {
	case len(s.Pending) == 0 && len(s.Applied) > 0 && len(s.Available) < len(s.Applied):
		return "down"
	case len(s.Pending) == 0:
		return "ready"
	}
	return "apply"
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
