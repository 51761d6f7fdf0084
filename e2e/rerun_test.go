//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// A Flyway directory with a repeatable, through init, apply and the real operator, commit by
// commit: the MarquezProject/marquez step 05d16aa..90a2f65 (reproduced in
// internal/migdir/testdata/repeatable-growth: V74 and, in the same commit, the repeatable
// edited to select V74's column), the repeatable edited a second time, and a versioned file
// added alone. After each commit the AtlasMigration becomes Ready with the change applied, as
// Flyway would apply it; and it stays Ready at the operator's next reconcile, which before the
// rerun ledger read the edit's leftover revision row as a database ahead of the directory
// (migrate down is not allowed: Degraded). The ledger's placeholders keep a file for every
// row, and its change marker is what atlas migrate status lists as pending.
func TestFlywayRepeatableEdited(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	growth := filepath.Join("..", "internal", "migdir", "testdata", "repeatable-growth")
	url, devURL := pgDatabases(t, ns)
	secret(t, ns, "app-db", url)
	secret(t, ns, "app-dev", devURL)
	query := func(q string) string {
		t.Helper()
		v, err := h.Postgres.Query(ctx, dbName(ns), q)
		require.NoError(t, err)
		return v
	}
	// deploy runs init on the directory (which records the ledger when it lacks the change)
	// and applies the folder, then waits for the operator to apply the newest version.
	deploy := func() string {
		t.Helper()
		initFolder(t, ns, dir, out, "--dev-url-secret", "app-dev:url")
		requireExit(t, run(t, "apply", "-k", out), 0)
		v := latest(t, dir)
		requireExit(t, run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v, "--timeout", "3m"), 0)
		// One revision row per file of the directory, placeholders and markers included.
		d, err := migdir.Read(dir, migdir.Options{})
		require.NoError(t, err)
		require.NoError(t, d.CheckLedger(), "init recorded the ledger")
		assert.Equal(t, strings.Join(d.Versions(), "\n"), query("SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version"))
		stillReady(t, ns, "app")
		return v
	}

	copyDir(t, filepath.Join(growth, "before"), dir)
	before := deploy()
	copyDir(t, filepath.Join(growth, "after"), dir)
	after := deploy()
	require.NotEqual(t, before, after)
	assert.Equal(t, "current_run_uuid", query("SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'current_run_uuid'"), "the edited repeatable ran again")
	r := run(t, "status", "-n", ns, "--dir", dir)
	requireExit(t, r, 0)
	assert.Contains(t, r.stderr, "runs non-linear")

	// The repeatable edited a second time (init appends to the ledger the testdata holds).
	const rs = "R__Jobs_view_and_rewrite_function.sql"
	b, err := os.ReadFile(filepath.Join(dir, rs))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, rs), []byte(strings.Replace(string(b), "       j.current_run_uuid\n", "       j.current_run_uuid,\n       j.created_at AS listed_at\n", 1)), 0o644))
	deploy()
	assert.Equal(t, "listed_at", query("SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs_view' AND column_name = 'listed_at'"), "the second edit ran")

	// A versioned file added alone: it sorts below the applied repeatable versions, and the
	// new change marker makes the operator apply it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "V75__jobs_note.sql"), []byte("ALTER TABLE jobs ADD COLUMN note text;\n"), 0o644))
	deploy()
	assert.Equal(t, "note", query("SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'note'"))
}

// stillReady makes the operator reconcile the AtlasMigration once more with nothing new (a
// new generation: spec.backoffLimit, which only bounds retries of a failing run) and asserts
// it stays Ready: the reconcile that turned an edited repeatable's AtlasMigration Degraded
// before the rerun ledger.
func stillReady(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	res := dyn.Resource(atlas.MigrationGVR).Namespace(ns)
	u, err := res.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	limit, _, _ := unstructured.NestedInt64(u.Object, "spec", "backoffLimit")
	patch := fmt.Sprintf(`{"spec":{"backoffLimit":%d}}`, limit+1+u.GetGeneration())
	u, err = res.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
	gen := u.GetGeneration()
	deadline := time.Now().Add(3 * time.Minute) // a hang guard: the operator acts on the event
	for {
		u, err = res.Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		reason := nested(condition(u, "Ready"), "reason")
		if observedGeneration(u) >= gen && reason != "Reconciling" && reason != "" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the operator did not reconcile generation %d (reason %s)", gen, reason)
		time.Sleep(100 * time.Millisecond)
	}
	ready := condition(u, "Ready")
	assert.Equal(t, "True", nested(ready, "status"), "%s: %s", nested(ready, "reason"), nested(ready, "message"))
	assert.Equal(t, "Applied", nested(ready, "reason"))
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
