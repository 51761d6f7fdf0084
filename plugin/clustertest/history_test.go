package clustertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/history"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

var historyFiles = map[string]string{
	"1_init.sql": "CREATE TABLE a (id int);\n",
	"2_b.sql":    "INSERT INTO nosuch VALUES (1);\n",
	"3_c.sql":    "CREATE TABLE c (id int);\n",
}

// writeDir writes a migration directory with a valid atlas.sum.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	require.NoError(t, err)
	for _, f := range d.Files {
		if f.Name == migdir.SumFile {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
		}
	}
	return dir
}

// history lists the cluster's migration files with the state the AtlasMigration's status
// gives them, as the fake operator writes it; --dir compares with a local directory.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	d, err := migdir.Read(writeDir(t, historyFiles), migdir.Options{})
	require.NoError(t, err)
	data := map[string]string{}
	for _, f := range d.Files {
		data[f.Name] = string(f.Data)
	}
	_, err = kc.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-migrations"}, Data: data}, metav1.CreateOptions{})
	require.NoError(t, err)
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", applied("1"))

	r := run(ctx, "history", "-n", ns, "app")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, [][]string{
		{"AtlasMigration " + ns + "/app, ConfigMap app-migrations: Healthy (Applied), last applied version 1"},
		{""},
		{"VERSION", "DESCRIPTION", "TYPE", "STATE"},
		{"1", "init", "versioned", "applied"},
		{"2", "b", "versioned", "pending"},
		{"3", "c", "versioned", "pending"},
	}, table(r.stdout))

	// The operator's error on file 2, with a password the redactor must hide.
	msg := `sql/migrate: executing statement "INSERT INTO nosuch VALUES (1);" from version "2": pq: relation "nosuch" does not exist (postgres://app:hunter2@db/app)`
	setStatus(t, ns, mig, "app", failed("Migrating", msg))
	r = run(ctx, "history", "-n", ns, "atlasmigration/app", "-o", "json")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	var doc struct {
		Kind   string
		Status struct {
			Health     string
			Source     string
			Migrations []history.Migration
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	assert.Equal(t, "AtlasMigration", doc.Kind)
	assert.Equal(t, "Degraded", doc.Status.Health)
	require.Len(t, doc.Status.Migrations, 3)
	assert.Equal(t, history.Applied, doc.Status.Migrations[0].State)
	assert.Equal(t, history.Failed, doc.Status.Migrations[1].State)
	assert.Contains(t, doc.Status.Migrations[1].Message, `relation "nosuch" does not exist (postgres://app:xxxxx@db/app)`)
	assert.Equal(t, history.Pending, doc.Status.Migrations[2].State)
	assert.NotContains(t, r.stdout+r.stderr, "hunter2")

	r = run(ctx, "history", "-n", ns, "app")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "2_b.sql failed:\n  sql/migrate: executing statement")

	// A local directory with the applied file edited and a new one.
	local := map[string]string{"1_init.sql": "CREATE TABLE a (id bigint);\n", "2_b.sql": historyFiles["2_b.sql"], "4_d.sql": "CREATE TABLE d (id int);\n"}
	r = run(ctx, "history", "-n", ns, "app", "--dir", writeDir(t, local))
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	rows := table(r.stdout)
	assert.Equal(t, []string{"VERSION", "DESCRIPTION", "TYPE", "STATE", "LOCAL"}, rows[2])
	assert.Equal(t, []string{"1", "init", "versioned", "applied", "differs"}, rows[3])
	assert.Equal(t, []string{"2", "b", "versioned", "failed", "same"}, rows[4])
	assert.Equal(t, []string{"3", "c", "versioned", "pending", "cluster only"}, rows[5])
	assert.Equal(t, []string{"4", "d", "versioned", "local only", "local only"}, rows[6])
	assert.Contains(t, r.stderr, "warning: 1_init.sql was applied and differs in ")

	// What cannot be listed.
	r = run(ctx, "history", "-n", ns, "nothing")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "AtlasMigration nothing not found in namespace "+ns)
	createAtlas(t, ns, mig, "lost", nil)
	r = run(ctx, "history", "-n", ns, "lost")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "ConfigMap lost-migrations not found in namespace "+ns)
	r = run(ctx, "history", "-n", ns, "atlasschema/app")
	assert.Equal(t, exitcode.Usage, r.code)
	r = run(ctx, "history", "-n", ns)
	assert.Equal(t, exitcode.Usage, r.code)
}
