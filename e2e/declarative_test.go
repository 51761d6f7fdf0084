//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	usersSchema = "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n"
	postsSchema = usersSchema + "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n"
)

// declarative runs init --schema -> apply -k --wait -> Healthy, then a spec change that the
// operator re-applies; tables(ctx) reads what the database holds.
func declarative(t *testing.T, ns string, tables func() []string, initArgs ...string) {
	t.Helper()
	work := t.TempDir()
	schema, out := filepath.Join(work, "schema.sql"), filepath.Join(work, "atlas")
	writeFiles(t, work, map[string]string{"schema.sql": usersSchema})
	args := append([]string{"init", "--schema", schema, "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--out", out, "--force"}, initArgs...)
	requireExit(t, run(t, args...), 0)
	r := run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "atlasschema.db.atlasgo.io/app serverside-applied")
	assert.Contains(t, r.stdout, "atlasschema.db.atlasgo.io/app healthy")
	assert.Empty(t, r.stderr)
	assert.Equal(t, []string{"users"}, tables())
	r = run(t, "status", "-n", ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasSchema\s+Healthy\s+Applied\s`, row(r.stdout, "app"))

	// A spec change: the operator re-applies the new desired state.
	writeFiles(t, work, map[string]string{"schema.sql": postsSchema})
	requireExit(t, run(t, args...), 0)
	r = run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "atlasschema.db.atlasgo.io/app healthy")
	assert.Equal(t, []string{"posts", "users"}, tables())
	r = run(t, "wait", "atlasschema/app", "-n", ns, "--timeout", "1m")
	requireExit(t, r, 0)
	assert.Equal(t, "atlasschema/app healthy\n", r.stdout)
}

// The declarative flow on SQLite (the operator's dev database is an in-memory SQLite).
func TestDeclarativeSQLite(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	db := h.SQLite(ns)
	secret(t, ns, "app-db", db.URL())
	declarative(t, ns, func() []string {
		tables, err := db.Tables(ctx)
		require.NoError(t, err)
		return tables
	})
}

// The declarative flow on PostgreSQL with a dev database from a Secret.
func TestDeclarativePostgres(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	url, devURL := pgDatabases(t, ns)
	secret(t, ns, "app-db", url)
	secret(t, ns, "app-dev", devURL)
	declarative(t, ns, func() []string {
		tables, err := h.Postgres.Tables(ctx, dbName(ns))
		require.NoError(t, err)
		return tables
	}, "--dev-url-secret", "app-dev:url")
}

// KNOWN PLUGIN BUG (issue 8 closing note): with --schema-configmap a changed schema file changes
// only the ConfigMap app-schema, not the AtlasSchema's spec, so its generation stays and the
// previous Ready=True still looks current: apply --wait reports healthy at once, before the
// operator has applied the new table. This test fails until the plugin can tell (e.g. a hashed
// schema ConfigMap name from init, as the kustomize generator does).
func TestDeclarativeSchemaConfigMapChange(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	url, devURL := pgDatabases(t, ns)
	secret(t, ns, "app-db", url)
	secret(t, ns, "app-dev", devURL)
	declarative(t, ns, func() []string {
		tables, err := h.Postgres.Tables(ctx, dbName(ns))
		require.NoError(t, err)
		return tables
	}, "--dev-url-secret", "app-dev:url", "--schema-configmap")
}

// A first run that would drop a table the schema does not name: the operator refuses
// (FirstRunDestructive), apply --wait ends with exit 3 and its words, the table stays.
func TestDeclarativeFirstRunDestructive(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	db := h.SQLite(ns)
	_, err := db.Query(ctx, "CREATE TABLE legacy (id integer PRIMARY KEY)")
	require.NoError(t, err)
	secret(t, ns, "app-db", db.URL())
	work := t.TempDir()
	out := filepath.Join(work, "atlas")
	writeFiles(t, work, map[string]string{"schema.sql": usersSchema})
	requireExit(t, run(t, "init", "--schema", filepath.Join(work, "schema.sql"), "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--out", out), 0)
	r := run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	degraded(t, r, "FirstRunDestructive", "destructive changes detected", "legacy")
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"legacy"}, tables, "nothing applied, nothing dropped")
}
