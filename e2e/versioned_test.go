//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	v1 = "20240101000000"
	v2 = "20240102000000"
)

var v1Files = map[string]string{
	v1 + "_users.sql": "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n",
}

// The versioned journey on SQLite: init -> apply -k --wait -> Healthy, status, tables; a new
// migration -> wait --for applied=V2; status --dir shows nothing pending.
func TestVersioned(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir := filepath.Join(work, "migrations")
	out := filepath.Join(work, "atlas")
	db := h.SQLite(ns)
	migrationDir(t, dir, v1Files)
	secret(t, ns, "app-db", db.URL())

	r := run(t, "init", "--dir", dir, "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--out", out)
	requireExit(t, r, 0)

	applyStart := time.Now()
	r = run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	healthyAfter := time.Since(applyStart)
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "configmap/app-migrations serverside-applied")
	assert.Contains(t, r.stdout, "atlasmigration.db.atlasgo.io/app serverside-applied")
	assert.Contains(t, r.stdout, "atlasmigration.db.atlasgo.io/app healthy")
	assert.Empty(t, r.stderr)
	t.Logf("versioned: apply start to Healthy %s (operator log below has its own reconcile times)", healthyAfter)
	timing.set("versioned: apply -k --wait start to Healthy", applyStart, healthyAfter, ns, "app")

	r = run(t, "status", "-n", ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasMigration\s+Healthy\s+Applied\s+`+v1+`\s`, row(r.stdout, "app"))
	assert.Empty(t, r.stderr)
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"atlas_schema_revisions", "users"}, tables)

	// A second migration: regenerate the folder, apply, wait for the version.
	writeFiles(t, dir, map[string]string{v2 + "_posts.sql": "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n"})
	rehash(t, dir)
	requireExit(t, run(t, "init", "--dir", dir, "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--out", out, "--force"), 0)
	r = run(t, "apply", "-k", out)
	requireExit(t, r, 0)
	r = run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v2, "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Equal(t, "atlasmigration/app healthy (version "+v2+")\n", r.stdout)
	assert.Empty(t, r.stderr)
	tables, err = db.Tables(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"atlas_schema_revisions", "posts", "users"}, tables)
	versions, err := db.Query(ctx, "SELECT version FROM atlas_schema_revisions ORDER BY version")
	require.NoError(t, err)
	assert.Equal(t, v1+"\n"+v2, versions)

	r = run(t, "status", "-n", ns, "--dir", dir)
	requireExit(t, r, 0)
	line := row(r.stdout, "app")
	assert.Regexp(t, `^app\s+AtlasMigration\s+Healthy\s+Applied\s+`+v2+`\s`, line)
	header := strings.Fields(strings.SplitN(r.stdout, "\n", 2)[0])
	assert.Contains(t, header, "PENDING")
	assert.Regexp(t, regexp.MustCompile(`\s(0|-|none)\s`), line, "nothing pending")
}
