//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// A Flyway repeatable edited together with the versioned file it needs (the MarquezProject/marquez
// step 05d16aa..90a2f65, reproduced in internal/migdir/testdata/repeatable-growth), through
// init, apply and the real operator: V74 runs, then the edited repeatable, as Flyway runs them;
// the revisions table keeps the repeatable's first version beside the new ones, which the
// operator later reads as a database ahead of the directory (docs/init.md, "With the Atlas
// Operator": this pins that limitation, so a fixed operator shows up here).
func TestFlywayRepeatableEdited(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	growth := filepath.Join("..", "internal", "migdir", "testdata", "repeatable-growth")
	copyDir(t, filepath.Join(growth, "before"), dir)
	url, devURL := pgDatabases(t, ns)
	secret(t, ns, "app-db", url)
	secret(t, ns, "app-dev", devURL)
	initFolder(t, ns, dir, out, "--dev-url-secret", "app-dev:url")
	requireExit(t, run(t, "apply", "-k", out, "--wait", "--timeout", "2m"), 0)
	before := latest(t, dir)

	copyDir(t, filepath.Join(growth, "after"), dir)
	after := latest(t, dir)
	require.NotEqual(t, before, after)
	initFolder(t, ns, dir, out, "--dev-url-secret", "app-dev:url")
	requireExit(t, run(t, "apply", "-k", out), 0)
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+after, "--timeout", "2m")
	requireExit(t, r, 0)

	cols, err := h.Postgres.Query(ctx, dbName(ns), "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'")
	require.NoError(t, err)
	assert.Equal(t, "current_run_uuid", cols, "the edited repeatable ran again")
	versions, err := h.Postgres.Query(ctx, dbName(ns), "SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY executed_at, version")
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{"a1", "a2", "b73", before, "b74", after}, "\n"), versions)

	r = run(t, "status", "-n", ns, "--dir", dir)
	requireExit(t, r, 0)
	assert.Contains(t, r.stderr, "runs non-linear")

	// The next reconcile that brings nothing new (here: the Secret touched) finds 6 revision
	// rows for 5 files and nothing pending: the operator takes the database for ahead of the
	// directory and refuses to migrate down (docs/init.md, "With the Atlas Operator").
	sec, err := kc.CoreV1().Secrets(ns).Get(ctx, "app-db", metav1.GetOptions{})
	require.NoError(t, err)
	sec.Annotations = map[string]string{"touched": "yes"}
	_, err = kc.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	require.NoError(t, err)
	untilReason(t, ns, "app", func(reason string) bool { return reason != "Applied" })
	u, err := dyn.Resource(atlas.MigrationGVR).Namespace(ns).Get(ctx, "app", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ProtectedFlowError", nested(condition(u, "Ready"), "reason"))
	assert.Contains(t, nested(condition(u, "Ready"), "message"), "migrate down is not allowed")
}

// latest is the newest converted version of a Flyway directory: the target-version init writes.
func latest(t *testing.T, dir string) string {
	t.Helper()
	d, err := migdir.Read(dir, migdir.Options{Format: migdir.FormatFlyway})
	require.NoError(t, err)
	return d.LatestVersion()
}

// copyDir replaces dst's files with src's.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dst))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	writeFiles(t, dst, files)
}
