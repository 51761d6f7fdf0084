//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Directories of other tools, converted by init, applied on the real PostgreSQL by the real
// operator: every up migration runs, in the tool's order, and nothing of the down parts.
func TestConvertedDirectories(t *testing.T) {
	for _, tc := range []struct {
		format   string
		files    map[string]string
		versions string // the versions atlas recorded, in order
	}{
		{"golang-migrate", map[string]string{
			"1_users.up.sql":   "CREATE TABLE users (id integer PRIMARY KEY);\n",
			"1_users.down.sql": "DROP TABLE users;\n",
			"2_posts.up.sql":   "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n",
			"2_posts.down.sql": "DROP TABLE posts;\n",
		}, "1\n2"},
		{"goose", map[string]string{
			"00001_users.sql": "-- +goose Up\nCREATE TABLE users (id integer PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n",
			"00002_posts.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE posts;\n",
		}, "00001\n00002"},
		{"flyway", map[string]string{
			"V1__users.sql":     "CREATE TABLE users (id integer PRIMARY KEY);\n",
			"V1.1__posts.sql":   "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n",
			"V2__title.sql":     "ALTER TABLE posts ADD COLUMN title text;\n",
			"V10__comments.sql": "CREATE TABLE comments (id integer PRIMARY KEY, post_id integer REFERENCES posts (id));\n",
		}, "01.00\n01.01\n02.00\n10.00"}, // docs/init.md says 01.0, 01.1, ...: see the issue 8 note
	} {
		t.Run(tc.format, func(t *testing.T) {
			ctx := context.Background()
			ns := newNamespace(t)
			work := t.TempDir()
			dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
			writeFiles(t, dir, tc.files)
			url, devURL := pgDatabases(t, ns)
			secret(t, ns, "app-db", url)
			secret(t, ns, "app-dev", devURL)
			r := run(t, "init", "--dir", dir, "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--dev-url-secret", "app-dev:url", "--out", out)
			requireExit(t, r, 0)
			r = run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
			requireExit(t, r, 0)
			assert.Contains(t, r.stdout, "atlasmigration.db.atlasgo.io/app healthy")
			r = run(t, "status", "-n", ns)
			requireExit(t, r, 0)
			assert.Regexp(t, `^app\s+AtlasMigration\s+Healthy\s+Applied\s+`+regexp.QuoteMeta(tc.versions[strings.LastIndexByte(tc.versions, '\n')+1:])+`\s`, row(r.stdout, "app"))
			noSecrets(t, r, h.Postgres.Password)
			tables, err := h.Postgres.Tables(ctx, dbName(ns))
			require.NoError(t, err)
			want := []string{"posts", "users"}
			if tc.format == "flyway" {
				want = []string{"comments", "posts", "users"}
			}
			assert.Equal(t, want, tables)
			versions, err := h.Postgres.Query(ctx, dbName(ns), "SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY executed_at, version")
			require.NoError(t, err)
			assert.Equal(t, tc.versions, versions, "every up migration, in the tool's order")
			if tc.format == "flyway" {
				cols, err := h.Postgres.Query(ctx, dbName(ns), "SELECT column_name FROM information_schema.columns WHERE table_name = 'posts' ORDER BY 1")
				require.NoError(t, err)
				assert.Equal(t, "id\ntitle\nuser_id", cols)
			}
		})
	}
}
