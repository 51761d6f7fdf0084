package clustertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// driftGVR is AtlasDriftCheck of operator v0.8, which the control plane serves beside the two
// kinds of v0.7.37 (controlplane.Options.NewerKinds): a kind the plugin has no script of its own for.
var driftGVR = schema.GroupVersionResource{Group: atlas.Group, Version: atlas.Version, Resource: "atlasdriftchecks"}

func createDriftCheck(t *testing.T, ns, name string) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": "AtlasDriftCheck",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"targetRef": map[string]any{"name": "app"}, "onDrift": "Fail"},
	}}
	_, err := dyn.Resource(driftGVR).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	require.NoError(t, err)
}

func setDriftStatus(t *testing.T, ns, name string, s operator.State) {
	t.Helper()
	_, err := operator.Fake{Client: dyn}.SetResource(context.Background(), driftGVR, ns, name, s)
	require.NoError(t, err)
}

// status lists every kind the cluster serves in the group, found through discovery, and judges
// the one without a script of its own by the generic rule.
func TestStatusEveryKindOfTheGroup(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", applied("20240102000000"))
	createDriftCheck(t, ns, "drift")
	setDriftStatus(t, ns, "drift", failed("DriftDetected", "2 objects drifted: 1 extra, 1 modified"))

	r := run(context.Background(), "status", "-n", ns)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	rows := table(r.stdout)
	require.Len(t, rows, 3, r.stdout)
	assert.Equal(t, []string{"drift", "AtlasDriftCheck", "Degraded", "DriftDetected"}, rows[1][:4])
	assert.Equal(t, []string{"app", "AtlasMigration", "Healthy"}, rows[2][:3])
	assert.Contains(t, r.stdout, "DriftDetected: 2 objects drifted: 1 extra, 1 modified")

	for _, name := range []string{"atlasdriftcheck/drift", "atlasdriftchecks.db.atlasgo.io/drift", "drift"} {
		r = run(context.Background(), "status", "-n", ns, name, "-o", "json")
		require.Equal(t, exitcode.OK, r.code, "%s: %v", name, r.err)
		var doc struct{ Items []status.Record }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
		require.Len(t, doc.Items, 1, name)
		assert.Equal(t, "AtlasDriftCheck", doc.Items[0].Kind)
		assert.Equal(t, "Degraded", string(doc.Items[0].Status.Health))
		assert.Equal(t, "DriftDetected", doc.Items[0].Status.Reason)
	}

	// healthcheck test without arguments: every resource of the group, as Argo CD v3.5.1 judges it.
	r = run(context.Background(), "healthcheck", "test", "-n", ns)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stdout, "AtlasDriftCheck "+ns+"/drift")
	assert.Contains(t, r.stdout, "Degraded: DriftDetected: 2 objects drifted")

	// A Role written for the two kinds of v0.7 keeps working when the cluster serves more: the
	// kinds the user may not list and did not name are left out.
	user := "reader-" + ns
	_, err := kc.RbacV1().Roles(ns).Create(context.Background(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "atlas-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{atlas.Group}, Resources: []string{"atlasmigrations", "atlasschemas"}, Verbs: []string{"get", "list", "watch"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kc.RbacV1().RoleBindings(ns).Create(context.Background(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "atlas-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "atlas-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: user}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	kubeconfig, err := env.AddUser(user, nil)
	require.NoError(t, err)
	r = run(context.Background(), "--kubeconfig", kubeconfig, "status", "-n", ns)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	rows = table(r.stdout)
	require.Len(t, rows, 2, r.stdout)
	assert.Equal(t, "app", rows[1][0])
	r = run(context.Background(), "--kubeconfig", kubeconfig, "status", "-n", ns, "atlasdriftcheck/drift")
	assert.Equal(t, exitcode.Failure, r.code, "a kind named is listed, and the denial said")
	assert.ErrorContains(t, r.err, "not allowed to list atlasdriftchecks.db.atlasgo.io")

	r = run(context.Background(), "status", "-n", ns, "atlassecurityscan/x")
	assert.Equal(t, exitcode.Usage, r.code)
	assert.ErrorContains(t, r.err, `unknown kind "atlassecurityscan": the cluster serves atlasmigration, atlasschema, atlasdriftcheck in db.atlasgo.io`)
}

// wait waits for a kind without a script of its own as for the others: Progressing keeps it
// waiting, Healthy ends it, Stalled fails at once; --all includes it.
func TestWaitEveryKindOfTheGroup(t *testing.T) {
	ns := newNamespace(t)
	createDriftCheck(t, ns, "drift")
	setDriftStatus(t, ns, "drift", reconciling)
	ch := async(context.Background(), "wait", "-n", ns, "atlasdriftcheck/drift", "--timeout", "10m")
	stillRunning(t, ch, 500*time.Millisecond)
	setDriftStatus(t, ns, "drift", applied(""))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stderr)
	assert.Equal(t, "atlasdriftcheck/drift healthy\n", r.stdout)

	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", applied("20240102000000"))
	setDriftStatus(t, ns, "drift", failed("DriftDetected", "2 objects drifted"))
	r = run(context.Background(), "wait", "-n", ns, "--all", "--timeout", "10m")
	assert.Equal(t, exitcode.Degraded, r.code, "%v", r.err)
	assert.ErrorContains(t, r.err, "atlasdriftcheck/drift in namespace "+ns+" is Degraded: DriftDetected: 2 objects drifted")

	r = run(context.Background(), "wait", "-n", ns, "atlasdriftcheck/drift", "--for", "applied=1")
	assert.Equal(t, exitcode.Usage, r.code)
	assert.ErrorContains(t, r.err, "AtlasDriftCheck has no version")
}
