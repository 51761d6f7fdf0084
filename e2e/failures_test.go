//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/doctor"
)

// initFolder scaffolds the versioned folder for AtlasMigration app reading Secret app-db.
func initFolder(t *testing.T, ns, dir, out string, extra ...string) {
	t.Helper()
	args := append([]string{"init", "--dir", dir, "--name", "app", "-n", ns, "--url-secret", "app-db:url", "--out", out, "--force"}, extra...)
	requireExit(t, run(t, args...), 0)
}

// degraded asserts a wait that ended at once on the operator's failure.
func degraded(t *testing.T, r result, reason string, words ...string) {
	t.Helper()
	requireExit(t, r, 3)
	all := r.stdout + r.stderr
	assert.Contains(t, all, reason)
	for _, w := range words {
		assert.Contains(t, all, w)
	}
}

// A file edited after atlas.sum was written (here: in the generated ConfigMap, bypassing init's
// check): the operator's atlas refuses it, apply --wait and wait end with exit 3 and its words;
// nothing reaches the database.
func TestFailureChecksum(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	db := h.SQLite(ns)
	migrationDir(t, dir, v1Files)
	secret(t, ns, "app-db", db.URL())
	initFolder(t, ns, dir, out)
	cm := filepath.Join(out, "migrations-configmap.yaml")
	b, err := os.ReadFile(cm)
	require.NoError(t, err)
	tampered := strings.Replace(string(b), "name text NOT NULL", "name text", 1)
	require.NotEqual(t, string(b), tampered)
	require.NoError(t, os.WriteFile(cm, []byte(tampered), 0o644))

	r := run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	degraded(t, r, "Migrating", "checksum mismatch")
	r = run(t, "wait", "atlasmigration/app", "-n", ns, "--timeout", "1m")
	degraded(t, r, "Migrating", "checksum mismatch")
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.NotContains(t, tables, "users")

	// doctor names the edited file: in the ConfigMap against its atlas.sum, and against --dir
	res := doctorFAIL(t, ns, "--dir", dir)
	assert.Contains(t, fail(t, res, "health").Saw, "checksum mismatch")
	assert.Contains(t, fail(t, res, "atlas.sum").Saw, v1+"_users.sql: was edited since atlas.sum was written")
	assert.Contains(t, fail(t, res, "dir").Saw, "the cluster's "+v1+"_users.sql differs from yours and does not match the cluster's atlas.sum")
	assert.Contains(t, found(t, res, "events", doctor.Warn).Saw, "checksum mismatch")
	outsideCluster(t, res)
}

// An SQL error in a new file: wait --for the new version ends with exit 3 and the failing
// statement; the earlier version stays applied, the failed file leaves nothing.
func TestFailureSQLError(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	db := h.SQLite(ns)
	migrationDir(t, dir, v1Files)
	secret(t, ns, "app-db", db.URL())
	initFolder(t, ns, dir, out)
	requireExit(t, run(t, "apply", "-k", out, "--wait", "--timeout", "2m"), 0)

	writeFiles(t, dir, map[string]string{v2 + "_bad.sql": "CREATE TABLE posts (id integer PRIMARY KEY);\nINSERT INTO missing_table VALUES (1);\n"})
	rehash(t, dir)
	initFolder(t, ns, dir, out)
	requireExit(t, run(t, "apply", "-k", out), 0)
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v2, "--timeout", "2m")
	degraded(t, r, "Migrating", "INSERT INTO missing_table", "no such table: missing_table")
	r = run(t, "status", "-n", ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasMigration\s+Degraded\s+Migrating\s`, row(r.stdout, "app"))
	// history, from the object and its ConfigMap alone: v1 applied, v2 failed with the
	// operator's words (it names the version), as the database says below.
	r = run(t, "history", "app", "-n", ns, "-o", "json")
	requireExit(t, r, 0)
	var hist struct {
		Status struct {
			Migrations []struct{ Version, State, Message string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &hist), r.stdout)
	states := map[string]string{}
	for _, m := range hist.Status.Migrations {
		states[m.Version] = m.State
		if m.Version == v2 {
			assert.Contains(t, m.Message, "no such table: missing_table")
		}
	}
	assert.Equal(t, map[string]string{v1: "applied", v2: "failed"}, states)
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.Contains(t, tables, "users", "the earlier version stays applied")
	assert.NotContains(t, tables, "posts", "the failed file is rolled back")

	// doctor: the failing statement, and the file still pending after the applied version
	res := doctorFAIL(t, ns, "--dir", dir)
	h := fail(t, res, "health")
	assert.Contains(t, h.Saw, "no such table: missing_table")
	assert.Contains(t, h.Fix, "a statement of a migration file failed")
	assert.Contains(t, found(t, res, "pending", doctor.Info).Saw, "applied up to version "+v1+"; 1 file(s) after it, in atlas's order: "+v2+"_bad.sql")
	assert.Contains(t, found(t, res, "dir", doctor.OK).Saw, "the same files as the cluster's directory")
	found(t, res, "atlas.sum", doctor.OK)
	outsideCluster(t, res)
}

// The database Secret is missing: wait ends with exit 3 and the operator's words; once the
// Secret exists the operator recovers by itself and wait returns the applied version
// (PostgreSQL).
func TestFailureMissingSecret(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	migrationDir(t, dir, v1Files)
	url, devURL := pgDatabases(t, ns)
	secret(t, ns, "app-dev", devURL)
	initFolder(t, ns, dir, out, "--dev-url-secret", "app-dev:url")
	requireExit(t, run(t, "apply", "-k", out), 0)
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--timeout", "1m")
	degraded(t, r, "ReadingMigrationData", `"app-db" not found`)
	res := doctorFAIL(t, ns)
	assert.Contains(t, fail(t, res, "url").Saw, "Secret app-db (spec.urlFrom) does not exist in namespace "+ns)
	assert.Contains(t, fail(t, res, "health").Fix, "create the Secret")
	assert.Contains(t, found(t, res, "dev-url", doctor.OK).Saw, "(driver postgres)")

	secret(t, ns, "app-db", url)
	// A wait started before the operator has reacted to the Secret still sees the old failure
	// and ends at once (exit 3, see the closing note of issue 8): let the operator react first.
	untilReason(t, ns, "app", func(reason string) bool { return reason != "ReadingMigrationData" })
	r = run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v1, "--timeout", "2m")
	requireExit(t, r, 0)
	assert.Equal(t, "atlasmigration/app healthy (version "+v1+")\n", r.stdout)
	noSecrets(t, r, h.Postgres.Password)
	tables, err := h.Postgres.Tables(ctx, dbName(ns))
	require.NoError(t, err)
	assert.Contains(t, tables, "users")
}

// The AtlasMigration arrives before its ConfigMap (applied on its own): wait ends with exit 3
// and the operator's words; once the ConfigMap exists the operator recovers by itself.
func TestFailureMissingConfigMap(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	db := h.SQLite(ns)
	migrationDir(t, dir, v1Files)
	secret(t, ns, "app-db", db.URL())
	initFolder(t, ns, dir, out)
	requireExit(t, run(t, "apply", "-f", filepath.Join(out, "atlasmigration.yaml"), "-n", ns), 0)
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--timeout", "1m")
	degraded(t, r, "ReadingMigrationData", `ConfigMap "app-migrations" not found`)
	res := doctorFAIL(t, ns)
	assert.Contains(t, fail(t, res, "configmap").Saw, "ConfigMap app-migrations (spec.dir.configMapRef) does not exist in namespace "+ns)
	assert.Contains(t, fail(t, res, "health").Fix, "apply the migrations ConfigMap")

	requireExit(t, run(t, "apply", "-f", filepath.Join(out, "migrations-configmap.yaml"), "-n", ns), 0)
	untilReason(t, ns, "app", func(reason string) bool { return reason != "ReadingMigrationData" })
	r = run(t, "wait", "atlasmigration/app", "-n", ns, "--for", "applied="+v1, "--timeout", "2m")
	requireExit(t, r, 0)
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	assert.Contains(t, tables, "users")
}

// A database nobody listens on: exit 3 with the driver's error, never the password.
func TestFailureUnreachable(t *testing.T) {
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	migrationDir(t, dir, v1Files)
	const password = "unreachable-pw-4711"
	secret(t, ns, "app-db", "postgres://app:"+password+"@127.0.0.1:"+strconv.Itoa(closedPort(t))+"/app?sslmode=disable")
	initFolder(t, ns, dir, out)
	r := run(t, "apply", "-k", out, "--wait", "--timeout", "2m")
	degraded(t, r, "Migrating", "connection refused")
	noSecrets(t, r, password)
	r = run(t, "status", "-n", ns, "-o", "yaml")
	requireExit(t, r, 0)
	assert.Contains(t, r.stdout, "connection refused")
	noSecrets(t, r, password)

	res := doctorFAIL(t, ns, "--report", filepath.Join(work, "report.tar.gz"))
	h := fail(t, res, "health")
	assert.Contains(t, h.Saw, "connection refused")
	assert.Contains(t, h.Fix, "cannot reach the database")
	assert.Regexp(t, `Secret app-db key url: postgres://app:xxxxx@127\.0\.0\.1:\d+/app\?sslmode=disable \(driver postgres\)`, found(t, res, "url", doctor.OK).Saw)
	b, err := os.ReadFile(filepath.Join(work, "report.tar.gz"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), password) // gzip: the bundle's own test reads its files
}

// A URL the operator cannot parse: its message carries the whole URL, password included; wait
// ends at once with exit 3 and the operator's words, redacted.
func TestFailureUnparsableURL(t *testing.T) {
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	migrationDir(t, dir, v1Files)
	const password = "hunter2%zzTOPSECRET"
	secret(t, ns, "app-db", "postgres://admin:"+password+"@127.0.0.1:5432/app")
	initFolder(t, ns, dir, out)
	requireExit(t, run(t, "apply", "-k", out), 0)
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--timeout", "1m")
	degraded(t, r, "ReadingMigrationData", "invalid URL escape")
	noSecrets(t, r, "hunter2", "TOPSECRET")
	for _, args := range [][]string{{"status", "-n", ns}, {"status", "-n", ns, "-o", "json"}, {"status", "-n", ns, "-o", "wide"}} {
		r = run(t, args...)
		requireExit(t, r, 0)
		noSecrets(t, r, "hunter2", "TOPSECRET")
	}
	res := doctorFAIL(t, ns)
	u := fail(t, res, "url")
	assert.Contains(t, u.Saw, `Secret app-db key url does not parse as a URL: invalid URL escape "%zz"`)
	assert.Contains(t, u.Fix, "percent-encode")
	assert.Contains(t, fail(t, res, "health").Fix, "does not parse")
	r = run(t, "doctor", "-n", ns, "app")
	requireExit(t, r, 3)
	noSecrets(t, r, "hunter2", "TOPSECRET")
}

// untilReason polls the AtlasMigration until its Ready reason satisfies ok (at most 2 min).
func untilReason(t *testing.T, ns, name string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		u, err := dyn.Resource(atlas.MigrationGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err)
		reason := nested(condition(u, "Ready"), "reason")
		if ok(reason) {
			return
		}
		require.True(t, time.Now().Before(deadline), "the operator kept reason %s for 2 min", reason)
		time.Sleep(50 * time.Millisecond)
	}
}

// pgDatabases creates an empty target and an empty dev database on the private PostgreSQL.
func pgDatabases(t *testing.T, ns string) (url, devURL string) {
	t.Helper()
	ctx := context.Background()
	url, err := h.Postgres.CreateDatabase(ctx, dbName(ns))
	require.NoError(t, err)
	devURL, err = h.Postgres.CreateDatabase(ctx, dbName(ns)+"_dev")
	require.NoError(t, err)
	return url, devURL
}

// dbName is a PostgreSQL database name for a namespace.
func dbName(ns string) string { return strings.ReplaceAll(ns, "-", "_") }

// closedPort is a loopback port with nothing listening.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// PostgreSQL without a dev database: the operator starts a dev-database Deployment and waits for
// its Pod (none runs here: no kubelet). The user sees Progressing with the operator's words, and
// wait times out with exit 4 rather than failing.
func TestPendingDevDB(t *testing.T) {
	ns := newNamespace(t)
	work := t.TempDir()
	dir, out := filepath.Join(work, "migrations"), filepath.Join(work, "atlas")
	migrationDir(t, dir, v1Files)
	url, _ := pgDatabases(t, ns)
	secret(t, ns, "app-db", url)
	initFolder(t, ns, dir, out)
	requireExit(t, run(t, "apply", "-k", out), 0)
	untilReason(t, ns, "app", func(reason string) bool { return reason == "GettingDevDB" })
	r := run(t, "wait", "atlasmigration/app", "-n", ns, "--timeout", "2s")
	requireExit(t, r, 4)
	// "waiting for dev database to be ready", then "no pods found": both are the operator's.
	assert.Contains(t, r.stderr, "(Progressing: GettingDevDB: ")
	r = run(t, "status", "-n", ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasMigration\s+Progressing\s+GettingDevDB\s`, row(r.stdout, "app"))
	noSecrets(t, r, h.Postgres.Password)

	// doctor: the operator's dev database Deployment has no Pod (no kubelet here, as in a
	// cluster that cannot schedule it)
	res := doctorFAIL(t, ns)
	d := fail(t, res, "dev-db")
	assert.Contains(t, d.Saw, "dev database Deployment app-atlas-dev-db")
	assert.Contains(t, d.Saw, "has no Pod")
	assert.Contains(t, d.Fix, "spec.devURL")
	assert.Contains(t, found(t, res, "health", doctor.Warn).Saw, "GettingDevDB")
	assert.Contains(t, found(t, res, "events", doctor.Warn).Saw, "GettingDevDB")
	outsideCluster(t, res)
}

// doctorFAIL runs doctor on AtlasMigration app with -o json, expects exit 3 and returns its
// result.
func doctorFAIL(t *testing.T, ns string, args ...string) doctor.Result {
	t.Helper()
	r := run(t, append([]string{"doctor", "atlasmigration/app", "-n", ns, "-o", "json"}, args...)...)
	requireExit(t, r, 3)
	var list struct{ Items []doctor.Result }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list), r.stdout)
	require.Len(t, list.Items, 1)
	noSecrets(t, r, h.Postgres.Password)
	return list.Items[0]
}

// found is the first finding of check with severity sev (the test fails without one).
func found(t *testing.T, res doctor.Result, check string, sev doctor.Severity) doctor.Finding {
	t.Helper()
	var all []string
	for _, f := range res.Status.Findings {
		if f.Check == check && f.Severity == sev {
			return f
		}
		all = append(all, string(f.Severity)+" "+f.Check+": "+f.Saw)
	}
	t.Fatalf("no %s finding %s among:\n%s", sev, check, strings.Join(all, "\n"))
	return doctor.Finding{}
}

func fail(t *testing.T, res doctor.Result, check string) doctor.Finding {
	t.Helper()
	return found(t, res, check, doctor.Fail)
}

// outsideCluster asserts doctor says plainly that the operator runs outside the cluster, as
// the harness runs it.
func outsideCluster(t *testing.T, res doctor.Result) {
	t.Helper()
	assert.Contains(t, found(t, res, "operator", doctor.Info).Saw, "the operator runs outside the cluster")
}
