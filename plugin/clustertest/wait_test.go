package clustertest

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

const (
	mig = atlas.KindAtlasMigration
	sch = atlas.KindAtlasSchema
)

func TestWaitSucceedsWhenReadyFlips(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	createAtlas(t, ns, sch, "app", nil)
	setStatus(t, ns, mig, "app", reconciling)
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/app", "atlasschema/app", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	setStatus(t, ns, mig, "app", applied("20240101000000"))
	stillRunning(t, ch, 500*time.Millisecond) // the schema is not ready yet
	setStatus(t, ns, sch, "app", applied(""))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v\n%s", r.err, r.stderr)
	assert.Equal(t, "atlasmigration/app healthy (version 20240101000000)\natlasschema/app healthy\n", r.stdout)
}

func TestWaitForObjectThatDoesNotExistYet(t *testing.T) {
	ns := newNamespace(t)
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/later", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	createAtlas(t, ns, mig, "later", nil)
	stillRunning(t, ch, 500*time.Millisecond) // created, but no status from the operator yet
	setStatus(t, ns, mig, "later", applied("3"))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "atlasmigration/later healthy (version 3)\n", r.stdout)
}

func TestWaitFailsFastOnStalled(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "bad", nil)
	setStatus(t, ns, mig, "bad", reconciling)
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/bad", "--timeout", "5m")
	stillRunning(t, ch, time.Second)
	setStatus(t, ns, mig, "bad", failed("Migrating", "Error: checksum mismatch\nconnecting to mysql://root:hunter2@db:3306/app"))
	r := await(t, ch)
	assert.Equal(t, exitcode.Degraded, r.code, "%v", r.err)
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "atlasmigration/bad")
	assert.Contains(t, r.err.Error(), "Degraded")
	assert.Contains(t, r.err.Error(), "checksum mismatch")
	assert.NotContains(t, r.err.Error()+r.stdout+r.stderr, "hunter2")
	// Degraded, not Timeout, under a 5 minute --timeout: it failed fast.
}

func TestWaitObjectDeletedWhileWaiting(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "gone", nil)
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/gone", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	require.NoError(t, dyn.Resource(atlas.MigrationGVR).Namespace(ns).Delete(context.Background(), "gone", metav1.DeleteOptions{}))
	r := await(t, ch)
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "atlasmigration/gone in namespace "+ns+" was deleted while waiting")
}

func TestWaitForDelete(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, sch, "old", nil)
	ch := async(context.Background(), "wait", "-n", ns, "atlasschema/old", "--for", "delete", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	require.NoError(t, dyn.Resource(atlas.SchemaGVR).Namespace(ns).Delete(context.Background(), "old", metav1.DeleteOptions{}))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "atlasschema/old deleted\n", r.stdout)

	// Something that does not exist is deleted already.
	r = run(context.Background(), "wait", "-n", ns, "atlasschema/never", "--for", "delete", "--timeout", "5s")
	assert.Equal(t, exitcode.OK, r.code, "%v", r.err)
}

func TestWaitTimeout(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "slow", nil)
	setStatus(t, ns, mig, "slow", reconciling)
	r := run(context.Background(), "wait", "-n", ns, "atlasmigration/slow", "--timeout", "1500ms")
	assert.Equal(t, exitcode.Timeout, r.code)
	assert.ErrorContains(t, r.err, "timed out after 1.5s; still waiting for: atlasmigration/slow (Progressing")
	assert.GreaterOrEqual(t, r.took, 1500*time.Millisecond)

	// --timeout=0 checks once.
	r = run(context.Background(), "wait", "-n", ns, "atlasmigration/slow", "--timeout", "0")
	assert.Equal(t, exitcode.Timeout, r.code)
	assert.ErrorContains(t, r.err, "not met (--timeout=0 checks once)")
	setStatus(t, ns, mig, "slow", applied("1"))
	r = run(context.Background(), "wait", "-n", ns, "atlasmigration/slow", "--timeout", "0")
	assert.Equal(t, exitcode.OK, r.code, "%v", r.err)
}

func TestWaitStaleReadyAfterGenerationChange(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, sch, "app", nil)
	setStatus(t, ns, sch, "app", applied(""))
	r := run(context.Background(), "wait", "-n", ns, "atlasschema/app", "--timeout", "0")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)

	// The user changes the spec; the operator has not reconciled it yet, so its Ready=True is
	// about the previous generation.
	bumpGeneration(t, ns, sch, "app")
	ch := async(context.Background(), "wait", "-n", ns, "atlasschema/app", "--timeout", "10m")
	stillRunning(t, ch, 1500*time.Millisecond)
	setStatus(t, ns, sch, "app", applied(""))
	r = await(t, ch)
	assert.Equal(t, exitcode.OK, r.code, "%v", r.err)
}

func TestWaitAppliedVersion(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	// Atlas's order: versions compare as strings, so with unpadded versions 10 comes before 9
	// (atlas applies 10_b.sql, then 9_a.sql).
	setStatus(t, ns, mig, "app", applied("10"))
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/app", "--for", "applied=9", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	setStatus(t, ns, mig, "app", applied("9"))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "atlasmigration/app healthy (version 9)\n", r.stdout)
	r = run(context.Background(), "wait", "-n", ns, "atlasmigration/app", "--for", "applied=10", "--timeout", "10m")
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)

	r = run(context.Background(), "wait", "-n", ns, "atlasschema/app", "--for", "applied=10")
	assert.Equal(t, exitcode.Usage, r.code)
}

func TestWaitSuspendedKeepsWaiting(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, sch, "plan", nil)
	ch := async(context.Background(), "wait", "-n", ns, "atlasschema/plan", "--timeout", "10m")
	stillRunning(t, ch, 500*time.Millisecond)
	st := operator.State{Reason: operator.ReasonApprovalPending, Message: "plan approval pending, review here: https://ariga.cloud/plans/1"}
	setStatus(t, ns, sch, "plan", st)
	stillRunning(t, ch, 1500*time.Millisecond)
	setStatus(t, ns, sch, "plan", applied(""))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Contains(t, r.stderr, "atlasschema/plan: Suspended")
}

func TestWaitSelector(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "a", map[string]string{"app": "x"})
	createAtlas(t, ns, sch, "b", map[string]string{"app": "x"})
	createAtlas(t, ns, mig, "other", map[string]string{"app": "y"})
	setStatus(t, ns, mig, "a", applied("1"))
	ch := async(context.Background(), "wait", "-n", ns, "-l", "app=x", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	setStatus(t, ns, sch, "b", applied(""))
	r := await(t, ch)
	require.Equal(t, exitcode.OK, r.code, "%v", r.err)
	assert.Equal(t, "atlasmigration/a healthy (version 1)\natlasschema/b healthy\n", r.stdout)

	// --all on one kind; "other" is not healthy.
	r = run(context.Background(), "wait", "-n", ns, "atlasmigration", "--all", "--timeout", "0")
	assert.Equal(t, exitcode.Timeout, r.code)
	assert.ErrorContains(t, r.err, "atlasmigration/other")
}

func TestWaitUsage(t *testing.T) {
	for _, args := range [][]string{
		{"wait"},
		{"wait", "atlasmigration"},
		{"wait", "deployment/x"},
		{"wait", "atlasmigration/x", "-l", "a=b"},
		{"wait", "atlasmigration/x", "--for", "ready"},
		{"wait", "atlasmigration/x", "--for", "applied"},
		{"wait", "atlasmigration/", "--all"},
		{"wait", "--all", "-l", "a=b"},
	} {
		r := run(context.Background(), args...)
		assert.Equal(t, exitcode.Usage, r.code, "%v: %v", args, r.err)
	}
}

func TestWaitRBAC(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	setStatus(t, ns, mig, "app", applied("1"))
	user := "waiter-" + ns
	kubeconfig, err := env.AddUser(user, nil)
	require.NoError(t, err)

	r := run(context.Background(), "--kubeconfig", kubeconfig, "wait", "-n", ns, "atlasmigration/app", "--timeout", "10s")
	assert.Equal(t, exitcode.Failure, r.code)
	assert.ErrorContains(t, r.err, "not allowed to list atlasmigrations.db.atlasgo.io in namespace \""+ns+"\" (RBAC)")

	// get, list and watch on the resource are enough.
	ctx := context.Background()
	_, err = kc.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "atlas-read"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{atlas.Group}, Resources: []string{"atlasmigrations", "atlasschemas"}, Verbs: []string{"get", "list", "watch"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kc.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "atlas-read"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "atlas-read"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: user}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r = run(context.Background(), "--kubeconfig", kubeconfig, "wait", "-n", ns, "atlasmigration/app", "--timeout", "10s")
		return r.code == exitcode.OK
	}, hang, 200*time.Millisecond, "%v", r.err)
}

// TestWaitInterrupt sends the process SIGINT (Ctrl-C) while a wait runs: it must end with 130.
func TestWaitInterrupt(t *testing.T) {
	ns := newNamespace(t)
	createAtlas(t, ns, mig, "app", nil)
	// The test takes SIGINT too, so a signal sent before the command's handler is installed does
	// not end the test binary; it is sent again until the command ends (no guess at when the
	// handler is ready).
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT)
	defer signal.Stop(sigs)
	ch := async(context.Background(), "wait", "-n", ns, "atlasmigration/app", "--timeout", "10m")
	stillRunning(t, ch, time.Second)
	var r result
	guard := time.After(hang)
	for ended := false; !ended; {
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
		select {
		case r = <-ch:
			ended = true
		case <-guard:
			t.Fatalf("wait did not end on SIGINT within %s", hang)
		case <-time.After(200 * time.Millisecond):
		}
	}
	assert.Equal(t, exitcode.Interrupted, r.code, "%v", r.err)
	assert.ErrorContains(t, r.err, "interrupted; still waiting for: atlasmigration/app")
}

// TestCRDsAbsent runs status and wait against a control plane without the operator's CRDs.
func TestCRDsAbsent(t *testing.T) {
	bare, err := controlplane.Start(controlplane.Options{WithoutCRDs: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bare.Stop()) })
	want := "the Atlas Operator CRDs (db.atlasgo.io) are not installed in this cluster"
	for _, args := range [][]string{
		{"status"},
		{"status", "-A"},
		{"status", "app"},
		{"wait", "atlasmigration/app", "--timeout", "10s"},
		{"wait", "--all", "--timeout", "10s"},
	} {
		r := run(context.Background(), append([]string{"--kubeconfig", bare.Kubeconfig}, args...)...)
		assert.Equal(t, exitcode.Failure, r.code, "%v", args)
		assert.ErrorContains(t, r.err, want, "%v", args) // at once: Failure, not Timeout
	}
}
