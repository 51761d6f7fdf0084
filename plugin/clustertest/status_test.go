package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

var spaces = regexp.MustCompile(` {2,}`)

// table turns the tabwriter output into rows of cells.
func table(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, spaces.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

func TestStatusEmptyNamespace(t *testing.T) {
	ns := newNamespace(t)
	r := run(context.Background(), "status", "-n", ns)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "No Atlas resources (atlasmigration, atlasschema, atlasdriftcheck) found in namespace "+ns+".\n", r.stderr)

	r = run(context.Background(), "status", "-n", ns, "-o", "json")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.JSONEq(t, `{"apiVersion":"v1","kind":"List","metadata":{},"items":[]}`, r.stdout)

	r = run(context.Background(), "status", "-n", ns, "nothing")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "not found in namespace "+ns+": nothing")
}

func TestStatusMixed(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "good", nil)
	setStatus(t, ns, mig, "good", applied("20240102000000"))
	createAtlas(t, ns, mig, "bad", nil)
	setStatus(t, ns, mig, "bad", failed("Migrating", "Error: sql/migrate: executing statement: Error 1064\nconnecting to mysql://root:hunter2@db:3306/app"))
	createAtlas(t, ns, sch, "pending", nil)
	createAtlas(t, ns, sch, "busy", nil)
	setStatus(t, ns, sch, "busy", reconciling)

	r := run(context.Background(), "status", "-n", ns)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.NotContains(t, r.stdout, "hunter2")
	rows := table(r.stdout)
	require.Len(t, rows, 5, r.stdout)
	assert.Equal(t, []string{"NAME", "KIND", "HEALTH", "REASON", "APPLIED", "AGE", "MESSAGE"}, rows[0])
	byName := map[string][]string{}
	for _, row := range rows[1:] {
		byName[row[0]] = row
	}
	// Sorted by kind, then name.
	assert.Equal(t, []string{"bad", "good", "busy", "pending"}, []string{rows[1][0], rows[2][0], rows[3][0], rows[4][0]})
	assert.Equal(t, []string{"AtlasMigration", "Healthy", "Applied", "20240102000000"}, byName["good"][1:5])
	assert.Equal(t, []string{"AtlasMigration", "Degraded", "Migrating", "-"}, byName["bad"][1:5])
	assert.Contains(t, byName["bad"][6], "Error: sql/migrate: executing statement: Error 1064 ...")
	assert.Equal(t, []string{"AtlasSchema", "Progressing", "Reconciling", "-"}, byName["busy"][1:5])
	assert.Equal(t, "Progressing", byName["pending"][2])

	// wide: the whole message on one line, generations, failure count.
	r = run(context.Background(), "status", "-n", ns, "-o", "wide", "bad")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	rows = table(r.stdout)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"NAME", "KIND", "HEALTH", "REASON", "APPLIED", "AGE", "GENERATION", "FAILED", "URL", "MESSAGE"}, rows[0])
	assert.Equal(t, []string{"1/1", "1", "-"}, rows[1][6:9])
	assert.Contains(t, rows[1][9], "Error 1064 connecting to mysql://root:xxxxx@db:3306/app")

	// json: structured records.
	r = run(context.Background(), "status", "-n", ns, "-o", "json")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.NotContains(t, r.stdout, "hunter2")
	var doc struct{ Items []status.Record }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	require.Len(t, doc.Items, 4)
	good := doc.Items[1]
	assert.Equal(t, "good", good.Metadata.Name)
	assert.Equal(t, "Healthy", string(good.Status.Health))
	assert.Equal(t, "20240102000000", good.Status.LastAppliedVersion)
	assert.Equal(t, int64(1), good.Metadata.Generation)
	assert.Equal(t, int64(1), good.Status.ObservedGeneration)
	assert.NotEmpty(t, good.Status.LastApplied)
	require.Len(t, good.Status.Conditions, 3)
	assert.Equal(t, "Ready", good.Status.Conditions[0].Type)
	bad := doc.Items[0]
	assert.Equal(t, int64(1), bad.Status.Failed)
	assert.Equal(t, "Degraded", string(bad.Status.Health))

	// yaml, -A with the namespace column, selection by kind/name.
	r = run(context.Background(), "status", "-n", ns, "-o", "yaml", "atlasschema/busy")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "name: busy")
	assert.NotContains(t, r.stdout, "name: bad")
	r = run(context.Background(), "status", "-A")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "NAMESPACE")
	assert.Contains(t, r.stdout, ns)
}

func TestStatusDirPending(t *testing.T) {
	ns := newNamespace(t)
	dir := t.TempDir()
	for _, f := range []string{"20240101000000_a.sql", "20240102000000_b.sql", "20240103000000_c.sql"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("CREATE TABLE "+f[15:16]+" (id int);\n"), 0o644))
	}
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	require.NoError(t, err)
	for _, f := range d.Files {
		if f.Name == migdir.SumFile {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
		}
	}
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", applied("20240101000000"))
	createAtlas(t, ns, mig, "fresh", nil)
	createAtlas(t, ns, sch, "decl", nil)

	r := run(context.Background(), "status", "-n", ns, "--dir", dir)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	rows := table(r.stdout)
	require.Len(t, rows, 4, r.stdout)
	assert.Equal(t, "PENDING", rows[0][6])
	assert.Equal(t, []string{"app", "2 (20240102000000,20240103000000)"}, []string{rows[1][0], rows[1][6]})
	assert.Equal(t, []string{"fresh", "3 (20240101000000,20240102000000,20240103000000)"}, []string{rows[2][0], rows[2][6]})
	assert.Equal(t, []string{"decl", "-"}, []string{rows[3][0], rows[3][6]})

	r = run(context.Background(), "status", "-n", ns, "--dir", dir, "-o", "json", "atlasmigration/app")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	var doc struct{ Items []status.Record }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	require.Len(t, doc.Items, 1)
	assert.Equal(t, []string{"20240102000000", "20240103000000"}, doc.Items[0].Status.Pending)

	setStatus(t, ns, mig, "app", applied("20240103000000"))
	r = run(context.Background(), "status", "-n", ns, "--dir", dir, "app")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "0", table(r.stdout)[1][6])

	// A directory that does not validate is an error naming it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20240104000000_d.sql"), []byte("SELECT 1;\n"), 0o644))
	r = run(context.Background(), "status", "-n", ns, "--dir", dir)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, dir)
}

func TestStatusRBAC(t *testing.T) {
	ns := newNamespace(t)
	kubeconfig, err := env.AddUser("status-"+ns, nil)
	require.NoError(t, err)
	r := run(context.Background(), "--kubeconfig", kubeconfig, "status", "-n", ns)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "not allowed to list atlas")
	assert.ErrorContains(t, r.err, "(RBAC)")
	r = run(context.Background(), "--kubeconfig", kubeconfig, "status", "-A")
	assert.ErrorContains(t, r.err, "in all namespaces (RBAC)")
}

func TestStatusUnreachable(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "dead.kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {username: admin, password: hunter2}}]
contexts: [{name: dead, context: {cluster: dead, user: u}}]
current-context: dead
`), 0o600))
	r := run(context.Background(), "--kubeconfig", kubeconfig, "status")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "cannot reach the API server")
	assert.NotContains(t, r.err.Error(), "hunter2")
}

func TestStatusWatch(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", reconciling)
	ctx, cancel := context.WithCancel(context.Background())
	f := follow(ctx, "status", "-n", ns, "--watch")
	f.printed(t, "the first table", func(out string) bool { return strings.Contains(out, "Progressing") })
	setStatus(t, ns, mig, "app", applied("5"))
	createAtlas(t, ns, sch, "late", nil)
	f.printed(t, "both changes", func(out string) bool { return len(table(out)) >= 4 })
	cancel()
	r := await(t, f.ch)
	rows := table(r.stdout)
	require.GreaterOrEqual(t, len(rows), 4, r.stdout)
	assert.Equal(t, "NAME", rows[0][0])
	assert.Equal(t, []string{"app", "AtlasMigration", "Progressing"}, rows[1][:3])
	// The two kinds are two watches: their changes may come in either order.
	changes := [][]string{rows[2][:3], rows[3][:3]}
	assert.ElementsMatch(t, [][]string{{"app", "AtlasMigration", "Healthy"}, {"late", "AtlasSchema", "Progressing"}}, changes)
}

// status --watch -o json prints the same List as status -o json, then a List per change; a
// jsonpath query reads the health of each.
func TestStatusWatchJSON(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", reconciling)
	r := run(context.Background(), "status", "-n", ns, "-o", "json")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	var listed struct{ Items []status.Record }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &listed))

	ctx, cancel := context.WithCancel(context.Background())
	f := follow(ctx, "status", "-n", ns, "--watch", "-o", "json")
	f.printed(t, "the first List", func(out string) bool { return strings.Contains(out, "Progressing") })
	setStatus(t, ns, mig, "app", applied("5"))
	f.printed(t, "the change", func(out string) bool { return strings.Contains(out, "Healthy") })
	cancel()
	r = await(t, f.ch)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var docs []struct {
		Kind  string
		Items []status.Record
	}
	for dec.More() {
		var d struct {
			Kind  string
			Items []status.Record
		}
		require.NoError(t, dec.Decode(&d), r.stdout)
		docs = append(docs, d)
	}
	require.Len(t, docs, 2, r.stdout)
	assert.Equal(t, "List", docs[0].Kind)
	assert.Equal(t, listed.Items[0].Metadata, docs[0].Items[0].Metadata, "the same object as status -o json")
	assert.Equal(t, "Progressing", string(docs[0].Items[0].Status.Health))
	require.Len(t, docs[1].Items, 1)
	assert.Equal(t, "Healthy", string(docs[1].Items[0].Status.Health))

	r = run(context.Background(), "status", "-n", ns, "-o", "jsonpath={.items[*].status.health}")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "Healthy", r.stdout)
}

func TestStatusManyResources(t *testing.T) {
	ns := newNamespace(t)
	n := cluster.PageSize + 30
	for i := 0; i < n; i++ {
		createAtlas(t, ns, mig, fmt.Sprintf("m%04d", i), nil)
	}
	r := run(context.Background(), "status", "-n", ns, "-o", "json")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	var doc struct{ Items []status.Record }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	require.Len(t, doc.Items, n)
	assert.Equal(t, "m0000", doc.Items[0].Metadata.Name)
	assert.Equal(t, fmt.Sprintf("m%04d", n-1), doc.Items[n-1].Metadata.Name)
}
