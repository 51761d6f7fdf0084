package clustertest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/doctor"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// The migration directory of the doctor tests: two versions and their atlas.sum.
var doctorFiles = map[string]string{
	"1_init.sql":  "CREATE TABLE users (id int, name text NOT NULL);\n",
	"2_posts.sql": "CREATE TABLE posts (id int);\n",
}

// packed is files plus the atlas.sum atlas would write.
func packed(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, c := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(c)}
	}
	d, err := migdir.ReadFS(fsys, migdir.Options{Format: migdir.FormatAtlas, Hash: true})
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range d.Files {
		out[f.Name] = string(f.Data)
	}
	return out
}

func createSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	_, err := kc.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{})
	require.NoError(t, err)
}

func createConfigMap(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	_, err := kc.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// createSpec creates an Atlas object with the given spec.
func createSpec(t *testing.T, ns, kind, name string, spec map[string]any) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}}
	_, err := dyn.Resource(gvrOf(kind)).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	require.NoError(t, err)
}

func secretRef(name, key string) map[string]any {
	return map[string]any{"secretKeyRef": map[string]any{"name": name, "key": key}}
}

func migrationSpec(secret, cm string) map[string]any {
	return map[string]any{"urlFrom": secretRef(secret, "url"), "dir": map[string]any{"configMapRef": map[string]any{"name": cm}}}
}

// doctorJSON runs doctor -o json and returns its results by resource name.
func doctorJSON(t *testing.T, args ...string) (map[string]doctor.Result, result) {
	t.Helper()
	r := run(context.Background(), append([]string{"doctor", "-o", "json"}, args...)...)
	require.Contains(t, []int{exitcode.OK, exitcode.Degraded}, r.code, "%v\n%s", r.err, r.stderr)
	var list struct{ Items []doctor.Result }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list), r.stdout)
	out := map[string]doctor.Result{}
	for _, it := range list.Items {
		out[it.Metadata.Name] = it
	}
	return out, r
}

// finding is the first finding of check with severity sev; the test fails without one.
func finding(t *testing.T, res doctor.Result, check string, sev doctor.Severity) doctor.Finding {
	t.Helper()
	var seen []string
	for _, f := range res.Status.Findings {
		if f.Check == check && f.Severity == sev {
			return f
		}
		seen = append(seen, string(f.Severity)+" "+f.Check+": "+f.Saw)
	}
	t.Fatalf("%s: no %s finding %s among:\n%s", res.Metadata.Name, sev, check, strings.Join(seen, "\n"))
	return doctor.Finding{}
}

func noFinding(t *testing.T, res doctor.Result, check string, sev doctor.Severity) {
	t.Helper()
	for _, f := range res.Status.Findings {
		assert.False(t, f.Check == check && f.Severity == sev, "%s: unexpected %s %s: %s", res.Metadata.Name, sev, check, f.Saw)
	}
}

// A healthy migration: every check OK (the operator runs outside this cluster: INFO), exit 0,
// and the table names each check.
func TestDoctorHealthy(t *testing.T) {
	ns := newNamespace(t)
	createSecret(t, ns, "db", map[string]string{"url": "sqlite:///var/lib/app.db"})
	createConfigMap(t, ns, "app-migrations", packed(t, doctorFiles))
	createSpec(t, ns, mig, "app", migrationSpec("db", "app-migrations"))
	setStatus(t, ns, mig, "app", applied("2"))

	res, r := doctorJSON(t, "-n", ns, "atlasmigration/app")
	require.Equal(t, exitcode.OK, r.code, r.stdout)
	app := res["app"]
	assert.Equal(t, doctor.Info, app.Status.Result)
	for _, c := range []string{"health", "ready", "failures", "url", "configmap", "atlas.sum", "pending", "dev-db"} {
		finding(t, app, c, doctor.OK)
	}
	assert.Contains(t, finding(t, app, "url", doctor.OK).Saw, "sqlite:///var/lib/app.db (driver sqlite)")
	assert.Contains(t, finding(t, app, "operator", doctor.Info).Saw, "runs outside the cluster")
	finding(t, app, "events", doctor.Info)

	r = run(context.Background(), "doctor", "-n", ns, "app")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "atlasmigration/app: INFO (health Healthy)\n")
	assert.Regexp(t, `(?m)^  OK    atlas\.sum    ConfigMap app-migrations: atlas.sum matches its 2 migration file\(s\)$`, r.stdout)

	// usage
	assert.Equal(t, exitcode.Usage, run(context.Background(), "doctor", "-n", ns).code)
	assert.Equal(t, exitcode.Usage, run(context.Background(), "doctor", "-n", ns, "app", "--all").code)
	assert.Equal(t, exitcode.Usage, run(context.Background(), "doctor", "-n", ns, "app", "--force").code)
	r = run(context.Background(), "doctor", "-n", ns, "atlasmigration/nope")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "not found in namespace "+ns+": atlasmigration/nope")
}

// The failures a user meets, each named by its check with exit 3, and never a password.
func TestDoctorFailures(t *testing.T) {
	ns := newNamespace(t)
	const pw = "doctorPw%zz4711"
	files := packed(t, doctorFiles)
	createConfigMap(t, ns, "good", files)
	tampered := map[string]string{}
	for k, v := range files {
		tampered[k] = v
	}
	tampered["1_init.sql"] = strings.Replace(files["1_init.sql"], "name text NOT NULL", "name text", 1)
	createConfigMap(t, ns, "tampered", tampered)
	createSecret(t, ns, "ok", map[string]string{"url": "postgres://app:s3cretpw@db:5432/app?sslmode=disable"})
	createSecret(t, ns, "unparsable", map[string]string{"url": "postgres://admin:" + pw + "@127.0.0.1:5432/app"})
	createSecret(t, ns, "newline", map[string]string{"url": "sqlite:///x.db\n"})
	createSecret(t, ns, "nokey", map[string]string{"uri": "sqlite:///x.db"})
	createSecret(t, ns, "unknown", map[string]string{"url": "oracel://u:p@h/x"})
	createSecret(t, ns, "lite", map[string]string{"url": "sqlite:///x.db"})

	createSpec(t, ns, mig, "checksum", migrationSpec("lite", "tampered"))
	setStatus(t, ns, mig, "checksum", failed("Migrating", "Error: checksum mismatch"))
	createSpec(t, ns, mig, "nosecret", migrationSpec("missing", "good"))
	setStatus(t, ns, mig, "nosecret", failed("ReadingMigrationData", `Secret "missing" not found`))
	createSpec(t, ns, mig, "nocm", migrationSpec("lite", "missing-cm"))
	setStatus(t, ns, mig, "nocm", failed("ReadingMigrationData", `ConfigMap "missing-cm" not found`))
	createSpec(t, ns, mig, "unparsable", migrationSpec("unparsable", "good"))
	setStatus(t, ns, mig, "unparsable", failed("ReadingMigrationData", `parse "postgres://admin:`+pw+`@127.0.0.1:5432/app": invalid URL escape "%zz"`))
	createSpec(t, ns, mig, "newline", migrationSpec("newline", "good"))
	createSpec(t, ns, mig, "nokey", migrationSpec("nokey", "good"))
	createSpec(t, ns, mig, "unknown", migrationSpec("unknown", "good"))
	createSpec(t, ns, mig, "sqlerror", migrationSpec("lite", "good"))
	setStatus(t, ns, mig, "sqlerror", applied("1"))
	for range 3 {
		setStatus(t, ns, mig, "sqlerror", failed("Migrating", `sql/migrate: executing statement "INSERT INTO missing_table VALUES (1);" from version "2": no such table: missing_table`))
	}
	spec := migrationSpec("lite", "good")
	spec["backoffLimit"] = int64(2)
	createSpec(t, ns, mig, "gaveup", spec)
	for range 2 {
		setStatus(t, ns, mig, "gaveup", failed("Migrating", "Error: postgres: connection refused"))
	}
	createSpec(t, ns, mig, "stale", migrationSpec("lite", "good"))
	setStatus(t, ns, mig, "stale", applied("2"))
	bumpGeneration(t, ns, mig, "stale")
	createSpec(t, ns, mig, "approval", migrationSpec("lite", "good"))
	setStatus(t, ns, mig, "approval", operator.State{Reason: operator.ReasonApprovalPending, Message: "plan approval pending", PlanURL: "https://acme.atlasgo.cloud/plans/42"})
	createSpec(t, ns, mig, "untouched", migrationSpec("lite", "good"))
	createSpec(t, ns, mig, "inline", map[string]any{"url": "postgres://app:inlinepw99@db/app", "devURL": "mysql://root:devpw1234@dev/x", "dir": map[string]any{"configMapRef": map[string]any{"name": "good"}}})
	setStatus(t, ns, mig, "inline", reconciling)

	res, r := doctorJSON(t, "-n", ns, "--all")
	require.Equal(t, exitcode.Degraded, r.code)
	assert.NotContains(t, r.stdout+r.stderr, "doctorPw")
	assert.NotContains(t, r.stdout+r.stderr, "s3cretpw")
	assert.NotContains(t, r.stdout+r.stderr, "inlinepw99")
	assert.NotContains(t, r.stdout+r.stderr, "devpw1234")

	ck := res["checksum"]
	assert.Contains(t, finding(t, ck, "atlas.sum", doctor.Fail).Saw, "1_init.sql: was edited since atlas.sum was written")
	assert.Contains(t, finding(t, ck, "health", doctor.Fail).Fix, "--dir")
	finding(t, ck, "ready", doctor.Fail)
	assert.Contains(t, finding(t, ck, "pending", doctor.Info).Saw, "1_init.sql, 2_posts.sql")

	assert.Contains(t, finding(t, res["nosecret"], "url", doctor.Fail).Saw, "Secret missing (spec.urlFrom) does not exist in namespace "+ns)
	assert.Contains(t, finding(t, res["nocm"], "configmap", doctor.Fail).Saw, "ConfigMap missing-cm (spec.dir.configMapRef) does not exist")
	u := finding(t, res["unparsable"], "url", doctor.Fail)
	assert.Contains(t, u.Saw, `does not parse as a URL: invalid URL escape "%zz"`)
	assert.Contains(t, u.Fix, "percent-encode")
	assert.Contains(t, finding(t, res["unparsable"], "health", doctor.Fail).Fix, "does not parse")
	assert.Contains(t, finding(t, res["newline"], "url", doctor.Fail).Saw, "trailing white space")
	assert.Contains(t, finding(t, res["nokey"], "url", doctor.Fail).Saw, "has no key url; its keys: uri")
	assert.Contains(t, finding(t, res["unknown"], "url", doctor.Fail).Saw, `names driver "oracel"`)
	assert.Contains(t, finding(t, res["sqlerror"], "failures", doctor.Warn).Saw, "3 failed attempt(s)")
	assert.Contains(t, finding(t, res["sqlerror"], "health", doctor.Fail).Fix, "a statement of a migration file failed")
	assert.Contains(t, finding(t, res["sqlerror"], "pending", doctor.Info).Saw, "applied up to version 1; 1 file(s) after it, in atlas's order: 2_posts.sql")
	assert.Contains(t, finding(t, res["gaveup"], "failures", doctor.Fail).Saw, "backoffLimit 2 reached")
	assert.Contains(t, finding(t, res["gaveup"], "health", doctor.Fail).Fix, "cannot reach the database")
	assert.Contains(t, finding(t, res["stale"], "ready", doctor.Warn).Saw, "stale: written for generation 1, the spec is at generation 2")
	assert.Contains(t, finding(t, res["approval"], "approval", doctor.Warn).Saw, "https://acme.atlasgo.cloud/plans/42")
	assert.Contains(t, finding(t, res["untouched"], "operator", doctor.Fail).Saw, "nothing has written the resource's status")
	finding(t, res["untouched"], "ready", doctor.Warn)
	in := res["inline"]
	assert.Contains(t, finding(t, in, "url", doctor.Warn).Saw, "spec.url holds a password")
	assert.Contains(t, finding(t, in, "url", doctor.OK).Saw, "postgres://app:xxxxx@db/app (driver postgres)")
	assert.Contains(t, finding(t, in, "dev-url", doctor.OK).Saw, "mysql://root:xxxxx@dev/x (driver mysql)")
	noFinding(t, in, "dev-db", doctor.Fail)

	// --dir: the cluster's applied 1_init.sql differs from the local one
	dir := writeFiles(t, packed(t, doctorFiles))
	res, r = doctorJSON(t, "-n", ns, "atlasmigration/checksum", "atlasmigration/sqlerror", "--dir", dir)
	require.Equal(t, exitcode.Degraded, r.code)
	d := finding(t, res["checksum"], "dir", doctor.Fail)
	assert.Contains(t, d.Saw, "1_init.sql")
	assert.Contains(t, d.Saw, "checksum mismatch")
	finding(t, res["sqlerror"], "dir", doctor.OK)
	edited := packed(t, map[string]string{"1_init.sql": "CREATE TABLE users (id int);\n", "2_posts.sql": doctorFiles["2_posts.sql"]})
	res, _ = doctorJSON(t, "-n", ns, "atlasmigration/sqlerror", "--dir", writeFiles(t, edited))
	assert.Contains(t, finding(t, res["sqlerror"], "dir", doctor.Fail).Saw, "applied file(s) differ between your directory and the cluster's: 1_init.sql (applied up to version 1)")
	local := packed(t, map[string]string{"1_init.sql": doctorFiles["1_init.sql"], "2_posts.sql": doctorFiles["2_posts.sql"], "3_more.sql": "CREATE TABLE more (id int);\n"})
	res, _ = doctorJSON(t, "-n", ns, "atlasmigration/sqlerror", "--dir", writeFiles(t, local))
	assert.Contains(t, finding(t, res["sqlerror"], "dir", doctor.Warn).Saw, "only in your directory: 3_more.sql")
}

// An AtlasSchema's schema: inline SQL, a ConfigMap key, HCL that does not parse.
func TestDoctorSchema(t *testing.T) {
	ns := newNamespace(t)
	createSecret(t, ns, "lite", map[string]string{"url": "sqlite:///x.db"})
	createConfigMap(t, ns, "schema", map[string]string{"schema.hcl": "table \"t\" {\n  schema = schema.main\n", "schema.sql": "CREATE TABLE t (id int);", "schema.txt": "x"})
	base := func(schema map[string]any) map[string]any {
		return map[string]any{"urlFrom": secretRef("lite", "url"), "schema": schema}
	}
	createSpec(t, ns, sch, "sql", base(map[string]any{"sql": "CREATE TABLE t (id int);\nCREATE TABLE u (id int);"}))
	createSpec(t, ns, sch, "cmsql", base(map[string]any{"configMapKeyRef": map[string]any{"name": "schema", "key": "schema.sql"}}))
	createSpec(t, ns, sch, "badhcl", base(map[string]any{"configMapKeyRef": map[string]any{"name": "schema", "key": "schema.hcl"}}))
	createSpec(t, ns, sch, "nokey", base(map[string]any{"configMapKeyRef": map[string]any{"name": "schema", "key": "other.sql"}}))
	createSpec(t, ns, sch, "badsql", base(map[string]any{"sql": "CREATE TABLE t (name text DEFAULT 'x);"}))
	res, r := doctorJSON(t, "-n", ns, "--all")
	require.Equal(t, exitcode.Degraded, r.code)
	assert.Contains(t, finding(t, res["sql"], "schema", doctor.OK).Saw, "spec.schema.sql: 2 SQL statement(s)")
	assert.Contains(t, finding(t, res["cmsql"], "schema", doctor.OK).Saw, "ConfigMap schema key schema.sql: 1 SQL statement(s)")
	assert.Contains(t, finding(t, res["badhcl"], "schema", doctor.Fail).Saw, "does not parse as HCL")
	assert.Contains(t, finding(t, res["nokey"], "schema", doctor.Fail).Saw, "has no key other.sql; its keys: schema.hcl, schema.sql, schema.txt")
	finding(t, res["badsql"], "schema", doctor.Fail)
	finding(t, res["sql"], "dev-db", doctor.OK)
}

// The operator in the cluster: its Deployment's readiness and version, the namespaces it
// watches (--namespace), what its service account may read, and logs that cannot be read
// (the test control plane has no kubelet).
func TestDoctorOperator(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	opNS := newNamespace(t)
	createSecret(t, ns, "lite", map[string]string{"url": "sqlite:///x.db"})
	createConfigMap(t, ns, "good", packed(t, doctorFiles))
	createSpec(t, ns, mig, "app", migrationSpec("lite", "good"))
	setStatus(t, ns, mig, "app", applied("2"))

	labels := map[string]string{"control-plane": "controller-manager", "app.kubernetes.io/name": "atlas-operator"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "atlas-operator", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: "atlas-operator", Containers: []corev1.Container{{
					Name: "manager", Image: "arigaio/atlas-operator:0.7.37", Args: []string{"--namespace=team-a,team-b"},
					Env: []corev1.EnvVar{{Name: "PREWARM_DEVDB", Value: "true"}, {Name: "ATLAS_TOKEN", Value: "aci_operatortoken123"}},
				}}},
			},
		},
	}
	got, err := kc.AppsV1().Deployments(opNS).Create(ctx, dep, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = kc.AppsV1().Deployments(opNS).Delete(context.Background(), "atlas-operator", metav1.DeleteOptions{})
	})

	// not ready, and watching other namespaces
	res, r := doctorJSON(t, "-n", ns, "app")
	require.Equal(t, exitcode.Degraded, r.code)
	app := res["app"]
	assert.Contains(t, finding(t, app, "watch", doctor.Fail).Saw, opNS+"/atlas-operator watches only namespace(s) team-a,team-b (--namespace)")
	assert.Contains(t, finding(t, app, "operator", doctor.Fail).Saw, "Deployment "+opNS+"/atlas-operator (version 0.7.37, service account atlas-operator) has no ready replica (0/1)")

	// a label selector the resource does not match
	got.Spec.Template.Spec.Containers[0].Args = []string{"--label-selector", "team=payments"}
	got, err = kc.AppsV1().Deployments(opNS).Update(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	res, _ = doctorJSON(t, "-n", ns, "app")
	assert.Contains(t, finding(t, res["app"], "watch", doctor.Fail).Saw, opNS+"/atlas-operator manages only resources with labels team=payments (--label-selector)")

	// ready, watching every namespace; no permission yet
	got.Spec.Template.Spec.Containers[0].Args = nil
	got, err = kc.AppsV1().Deployments(opNS).Update(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	got.Status.Replicas, got.Status.ReadyReplicas = 1, 1
	_, err = kc.AppsV1().Deployments(opNS).UpdateStatus(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	res, r = doctorJSON(t, "-n", ns, "app")
	require.Equal(t, exitcode.Degraded, r.code)
	app = res["app"]
	assert.Contains(t, finding(t, app, "watch", doctor.OK).Saw, "watches all namespaces")
	assert.Contains(t, finding(t, app, "operator", doctor.OK).Saw, "is ready (1/1)")
	assert.Contains(t, finding(t, app, "rbac", doctor.Fail).Saw, "system:serviceaccount:"+opNS+":atlas-operator may not get configmap good, secret lite in namespace "+ns)
	assert.Contains(t, finding(t, app, "logs", doctor.Info).Saw, "cannot be read: it has no Pods")

	// granted; a Pod whose logs no kubelet serves
	_, err = kc.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"get", "list", "watch"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kc.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "atlas-operator", Namespace: opNS}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	createPod(t, opNS, "atlas-operator-abc", labels, nil)
	res, r = doctorJSON(t, "-n", ns, "app")
	require.Equal(t, exitcode.OK, r.code, r.stdout)
	app = res["app"]
	finding(t, app, "rbac", doctor.OK)
	assert.Contains(t, finding(t, app, "logs", doctor.Info).Saw, "cannot be read")

	// the bundle: versions, the Deployment without its env values
	report := filepath.Join(t.TempDir(), "report.tar.gz")
	r = run(ctx, "doctor", "-n", ns, "app", "--report", report)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	files := readBundle(t, report)
	assert.Contains(t, files["versions.json"], "0.7.37")
	assert.Contains(t, files["versions.json"], "apiServer")
	dy := files["operator/"+opNS+"-atlas-operator-deployment.yaml"]
	assert.Contains(t, dy, "PREWARM_DEVDB")
	assert.NotContains(t, dy, "aci_operatortoken123")
	assert.Contains(t, files["operator/"+opNS+"-atlas-operator-logs.txt"], "the logs could not be read")
	r = run(ctx, "doctor", "-n", ns, "app", "--report", report)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "exists: pass --force")
	r = run(ctx, "doctor", "-n", ns, "app", "--report", report, "--force")
	assert.Equal(t, exitcode.OK, r.code, "%v", r.err)
}

// The dev database the operator runs for a PostgreSQL target without devURL.
func TestDoctorDevDB(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecret(t, ns, "pg", map[string]string{"url": "postgres://app:pgpass123@db:5432/app"})
	createConfigMap(t, ns, "good", packed(t, doctorFiles))
	createSpec(t, ns, mig, "app", migrationSpec("pg", "good"))
	setStatus(t, ns, mig, "app", operator.State{Reason: operator.ReasonGettingDevDB, Message: "waiting for dev database to be ready"})

	res, _ := doctorJSON(t, "-n", ns, "app")
	assert.Contains(t, finding(t, res["app"], "dev-db", doctor.Warn).Saw, "app-atlas-dev-db")

	labels := map[string]string{"app.kubernetes.io/instance": "app-atlas-dev-db", "app.kubernetes.io/name": "atlas-dev-db", "atlasgo.io/engine": "postgres"}
	_, err := kc.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app-atlas-dev-db", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:latest"}}}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	res, r := doctorJSON(t, "-n", ns, "app")
	require.Equal(t, exitcode.Degraded, r.code)
	assert.Contains(t, finding(t, res["app"], "dev-db", doctor.Fail).Saw, "dev database Deployment app-atlas-dev-db (image postgres:latest) wants 1 replica(s) and has no Pod")
	noFinding(t, res["app"], "operator", doctor.Fail) // the dev database is not the operator

	createPod(t, ns, "app-atlas-dev-db-1", labels, &corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "postgres", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}})
	res, _ = doctorJSON(t, "-n", ns, "app")
	assert.Contains(t, finding(t, res["app"], "dev-db", doctor.Fail).Saw, "container postgres waiting: ImagePullBackOff")

	createPod(t, ns, "app-atlas-dev-db-2", labels, &corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}})
	res, _ = doctorJSON(t, "-n", ns, "app")
	assert.Contains(t, finding(t, res["app"], "dev-db", doctor.OK).Saw, "Pod app-atlas-dev-db-2 is ready")
}

// createPod creates a Pod (no kubelet runs it) and writes its status.
func createPod(t *testing.T, ns, name string, labels map[string]string, st *corev1.PodStatus) {
	t.Helper()
	ctx := context.Background()
	p, err := kc.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{AutomountServiceAccountToken: ptr.To(false), Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	if st != nil {
		p.Status = *st
		_, err = kc.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
}

// readBundle reads a tar.gz into file name (without the top folder) -> content.
func readBundle(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		_, name, _ := strings.Cut(h.Name, "/")
		out[name] = string(b)
	}
	return out
}

// The other references: Atlas Cloud token, project config, credentials, inline and remote
// directories, binaryData; and the operator's Events.
func TestDoctorReferences(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecret(t, ns, "lite", map[string]string{"url": "sqlite:///x.db"})
	createSecret(t, ns, "tok", map[string]string{"token": "aci_tokenvalue123", "empty": ""})
	createSecret(t, ns, "creds", map[string]string{"password": "credpass987", "host": "db.internal"})
	files := packed(t, doctorFiles)
	_, err := kc.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bin"}, Data: files,
		BinaryData: map[string][]byte{"3_x.sql": []byte("x")}}, metav1.CreateOptions{})
	require.NoError(t, err)

	spec := migrationSpec("lite", "bin")
	spec["cloud"] = map[string]any{"tokenFrom": secretRef("tok", "token")}
	spec["configFrom"] = secretRef("nocfg", "atlas.hcl")
	createSpec(t, ns, mig, "refs", spec)
	createSpec(t, ns, mig, "emptytoken", map[string]any{"urlFrom": secretRef("lite", "url"), "cloud": map[string]any{"tokenFrom": secretRef("tok", "empty")},
		"dir": map[string]any{"local": files}})
	createSpec(t, ns, mig, "remote", map[string]any{"urlFrom": secretRef("lite", "url"), "dir": map[string]any{"remote": map[string]any{"name": "app", "tag": "v1"}}})
	createSpec(t, ns, mig, "creds", map[string]any{"credentials": map[string]any{"scheme": "postgres", "user": "app", "passwordFrom": secretRef("creds", "password"),
		"hostFrom": secretRef("creds", "host"), "database": "app"}, "devURL": "postgres://dev", "dir": map[string]any{"local": files}})
	createSpec(t, ns, mig, "badscheme", map[string]any{"credentials": map[string]any{"scheme": "pg", "host": "h"}, "dir": map[string]any{"local": files}})
	createSpec(t, ns, mig, "nourl", map[string]any{"dir": map[string]any{"local": files}})
	for _, n := range []string{"refs", "emptytoken", "remote", "creds", "badscheme", "nourl"} {
		setStatus(t, ns, mig, n, applied("2"))
	}
	obj, err := dyn.Resource(atlas.MigrationGVR).Namespace(ns).Get(ctx, "creds", metav1.GetOptions{})
	require.NoError(t, err)
	event := func(name, typ, reason, msg string) {
		_, err := kc.CoreV1().Events(ns).Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name},
			InvolvedObject: corev1.ObjectReference{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: ns, Name: obj.GetName(), UID: obj.GetUID()},
			Type:           typ, Reason: reason, Message: msg, Count: 1, FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(),
			Source: corev1.EventSource{Component: "atlasmigration-controller"}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	event("applied", corev1.EventTypeNormal, "Applied", "Version 2 applied")

	res, r := doctorJSON(t, "-n", ns, "--all")
	require.Equal(t, exitcode.Degraded, r.code)
	assert.NotContains(t, r.stdout, "aci_tokenvalue123")
	assert.NotContains(t, r.stdout, "credpass987")
	refs := res["refs"]
	assert.Contains(t, finding(t, refs, "cloud-token", doctor.OK).Saw, "Secret tok has key token (the Atlas Cloud token, 17 characters)")
	assert.Contains(t, finding(t, refs, "config", doctor.Fail).Saw, "Secret nocfg (spec.configFrom) does not exist")
	assert.Contains(t, finding(t, refs, "configmap", doctor.Warn).Saw, "1 binaryData key(s), which the operator ignores")
	assert.Contains(t, finding(t, res["emptytoken"], "cloud-token", doctor.Fail).Saw, "Secret tok key empty is empty")
	finding(t, res["emptytoken"], "atlas.sum", doctor.OK)
	assert.Contains(t, finding(t, res["remote"], "configmap", doctor.Info).Saw, "app (tag v1) in Atlas Cloud")
	assert.Contains(t, finding(t, res["remote"], "cloud-token", doctor.Fail).Saw, "spec.dir.remote needs an Atlas Cloud token")
	cr := res["creds"]
	assert.Contains(t, finding(t, cr, "url", doctor.OK).Saw, "spec.credentials: driver postgres, host from Secret creds key host, database app")
	assert.Contains(t, finding(t, cr, "events", doctor.OK).Saw, "1 Event(s), none a warning; latest: Applied: Version 2 applied [atlasmigration-controller]")
	assert.Contains(t, finding(t, res["badscheme"], "url", doctor.Fail).Saw, `spec.credentials.scheme "pg" names no driver`)
	assert.Contains(t, finding(t, res["nourl"], "url", doctor.Fail).Saw, "no target database")

	event("failed", corev1.EventTypeWarning, "TransientErr", "Error: checksum mismatch")
	res, _ = doctorJSON(t, "-n", ns, "creds")
	assert.Contains(t, finding(t, res["creds"], "events", doctor.Warn).Saw, "1 warning Event(s) of 2; the latest:\n  TransientErr: Error: checksum mismatch [atlasmigration-controller]")
}

// A user who may read the Atlas resources and nothing else: doctor says what it cannot check
// (WARN), and fails nothing for it.
func TestDoctorLimitedUser(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecret(t, ns, "lite", map[string]string{"url": "sqlite:///x.db"})
	createConfigMap(t, ns, "good", packed(t, doctorFiles))
	createSpec(t, ns, mig, "app", migrationSpec("lite", "good"))
	setStatus(t, ns, mig, "app", applied("9"))
	user := "doctor-" + ns
	_, err := kc.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "atlas-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{atlas.Group}, Resources: []string{"atlasmigrations", "atlasschemas"}, Verbs: []string{"get", "list"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kc.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "atlas-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "atlas-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: user}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	kubeconfig, err := env.AddUser(user, nil)
	require.NoError(t, err)

	res, r := doctorJSON(t, "--kubeconfig", kubeconfig, "-n", ns, "app")
	require.Equal(t, exitcode.OK, r.code, r.stdout)
	app := res["app"]
	assert.Contains(t, finding(t, app, "url", doctor.Warn).Saw, "cannot read Secret lite (spec.urlFrom): not allowed (RBAC)")
	assert.Contains(t, finding(t, app, "configmap", doctor.Warn).Saw, "cannot read ConfigMap good")
	assert.Contains(t, finding(t, app, "events", doctor.Warn).Saw, "cannot list Events")
	assert.Contains(t, finding(t, app, "operator", doctor.Warn).Saw, "cannot list Deployments in all namespaces to find the operator")
	finding(t, app, "health", doctor.OK)

	// lastAppliedVersion 9 is no file of the directory
	res, _ = doctorJSON(t, "-n", ns, "app")
	assert.Contains(t, finding(t, res["app"], "pending", doctor.Warn).Saw, "lastAppliedVersion 9 is no file of the directory")
}
