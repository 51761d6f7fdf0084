//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/argocd"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// The GitOps journeys: a real Argo CD v3.5.1 (internal/testbed/argocd) syncs what `kubectl atlas
// init --argocd-app` scaffolds from a local git repository, gated by our health checks, with the
// real operator on real databases. One Argo CD for the package (started by TestMain); each
// journey has its own namespace, repository and Application (named after the namespace).

var (
	acd *argocd.ArgoCD
	// pluginBin is kubectl-atlas built from this tree, on the repo-server's PATH for the
	// kustomize generator (docs/kustomize.md).
	pluginBin string
)

// appImage is the application image the journeys scaffold; nothing pulls it (no kubelet: the
// journeys write the Deployment's status, see playKubelet).
const appImage = "ghcr.io/acme/app:1.0"

// The built-in resources whose creation order the journeys check (watchCreations).
var (
	configMapGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// gitopsTimeout is the hang guard of every wait on Argo CD: a busy 2-core machine is slow, not wrong.
const gitopsTimeout = 5 * time.Minute

// startArgoCD builds kubectl-atlas into a temp dir and starts Argo CD against the harness's
// control plane.
func startArgoCD(ctx context.Context) (*argocd.ArgoCD, func(), error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	binDir, err := os.MkdirTemp("", "kubectl-atlas-plugin-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(binDir) }
	pluginBin = filepath.Join(binDir, "kubectl-atlas")
	build := exec.CommandContext(ctx, "go", "build", "-o", pluginBin, "./cmd/kubectl-atlas")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("building kubectl-atlas for the repo-server: %v: %s", err, out)
	}
	a, err := argocd.Start(ctx, argocd.Options{Kubeconfig: h.Env.Kubeconfig, Config: h.Env.Config, RepoServerPath: []string{binDir}})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return a, func() {
		if os.Getenv("E2E_ARGOCD_LOG") != "" {
			for _, p := range []string{"application-controller", "repo-server"} {
				_ = os.WriteFile(os.Getenv("E2E_ARGOCD_LOG")+"."+p, []byte(a.Log(p)), 0o644)
			}
		}
		if err := a.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stopping Argo CD:", err)
		}
		cleanup()
	}, nil
}

// gitops is one journey's repository and Application.
type gitops struct {
	t      *testing.T
	ns     string
	app    string // the Application's name (the namespace: one Argo CD serves every journey)
	repo   *argocd.Repo
	folder string // the scaffolded folder in the repository (path "atlas")
	dir    string // the migration directory in the repository
}

func newGitOps(t *testing.T) *gitops {
	t.Helper()
	ns := newNamespace(t)
	repo, err := acd.NewRepo(ns)
	require.NoError(t, err)
	g := &gitops{t: t, ns: ns, app: ns, repo: repo, folder: filepath.Join(repo.Dir, "atlas"), dir: filepath.Join(repo.Dir, "migrations")}
	t.Cleanup(func() {
		if t.Failed() {
			if app, err := acd.GetApplication(context.Background(), g.app); err == nil {
				t.Logf("Application at the end: %s", app.Summary())
			}
		}
		// Not cascading: the objects stay, the controller stops working on a finished journey.
		_ = acd.DeleteApplication(context.Background(), g.app)
	})
	stopKubelet := playKubelet(ns)
	t.Cleanup(stopKubelet)
	return g
}

// initArgs is `kubectl atlas init` as a user writes it for this repository, with the app.
func (g *gitops) initArgs(extra ...string) []string {
	return append([]string{"init", "--dir", g.dir, "--name", "app", "-n", g.ns, "--with-app", appImage,
		"--argocd-app", "--repo-url", g.repo.URL, "--path", "atlas", "--out", g.folder, "--force"}, extra...)
}

// commit commits the work tree and asks Argo CD to look (what the git host's webhook does);
// it returns the commit id and when the commit was made.
func (g *gitops) commit(msg string) (string, time.Time) {
	g.t.Helper()
	at := time.Now()
	sha, err := g.repo.CommitAll(msg)
	require.NoError(g.t, err)
	if _, err := acd.GetApplication(context.Background(), g.app); err == nil {
		require.NoError(g.t, acd.Refresh(context.Background(), g.app))
	}
	return sha, at
}

// createApplication applies the scaffolded argocd/application.yaml, as `kubectl apply -f` does,
// renamed after the namespace; edit changes it first (e.g. its sync options).
func (g *gitops) createApplication(edit func(u *unstructured.Unstructured)) *unstructured.Unstructured {
	g.t.Helper()
	b, err := os.ReadFile(filepath.Join(g.folder, "argocd", "application.yaml"))
	require.NoError(g.t, err)
	u := &unstructured.Unstructured{}
	require.NoError(g.t, yaml.Unmarshal(b, &u.Object))
	require.Equal(g.t, argocd.Namespace, u.GetNamespace())
	u.SetName(g.app)
	if edit != nil {
		edit(u)
	}
	require.NoError(g.t, acd.Apply(context.Background(), u))
	return u
}

// wait waits for the Application to reach what done says.
func (g *gitops) wait(what string, done func(*argocd.Application) bool) *argocd.Application {
	g.t.Helper()
	app, err := acd.WaitApplication(context.Background(), g.app, what, gitopsTimeout, done)
	require.NoError(g.t, err)
	return app
}

// healthyAt waits until the Application is Synced and Healthy at revision sha with the sync of
// that revision succeeded.
func (g *gitops) healthyAt(sha string) *argocd.Application {
	g.t.Helper()
	started := ""
	app := g.wait("Synced and Healthy at "+sha[:7], func(app *argocd.Application) bool {
		op := app.Status.OperationState
		if started == "" && op != nil && op.SyncResult != nil && op.SyncResult.Revision == sha {
			started = op.StartedAt
		}
		return app.Status.Sync.Status == "Synced" && app.Status.Sync.Revision == sha && app.Status.Health.Status == "Healthy" &&
			op != nil && op.Phase == "Succeeded" && op.SyncResult != nil && op.SyncResult.Revision == sha
	})
	if started != "" && app.Status.OperationState.StartedAt != started {
		g.t.Logf("Argo CD synced %s a second time: %s", sha[:7], app.Summary())
	}
	return app
}

// creations records the order in which objects of some resources are created in a namespace,
// as the API server saw it: the resourceVersion of each creation's ADDED event is the etcd
// revision of that write, and the test bed runs one etcd, so revisions of all resources compare.
// This is the order Argo CD applied a first sync in. Its operation state is no record of it:
// between the controller's iterations a later state can drop an earlier wave's results (and Argo
// CD then starts a second sync of the rest), so polling it misses waves at random.
type creations struct {
	t      *testing.T
	mu     sync.Mutex
	rv     map[string]int64 // Kind/name -> revision of its creation
	errs   []error
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// watchCreations starts watching the resources in ns; creations before the call are not seen.
func watchCreations(t *testing.T, ns string, gvrs ...schema.GroupVersionResource) *creations {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &creations{t: t, rv: map[string]int64{}, cancel: cancel}
	t.Cleanup(c.stop)
	for _, gvr := range gvrs {
		list, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		w, err := dyn.Resource(gvr).Namespace(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
		require.NoError(t, err)
		c.done.Add(1)
		go func() {
			defer c.done.Done()
			defer w.Stop()
			for ev := range w.ResultChan() {
				u, ok := ev.Object.(*unstructured.Unstructured)
				if ev.Type != watch.Added || !ok {
					continue
				}
				rv, err := strconv.ParseInt(u.GetResourceVersion(), 10, 64)
				c.mu.Lock()
				if err != nil {
					c.errs = append(c.errs, fmt.Errorf("%s/%s: resourceVersion %q: %w", u.GetKind(), u.GetName(), u.GetResourceVersion(), err))
				} else if _, seen := c.rv[u.GetKind()+"/"+u.GetName()]; !seen {
					c.rv[u.GetKind()+"/"+u.GetName()] = rv
				}
				c.mu.Unlock()
			}
		}()
	}
	return c
}

func (c *creations) stop() {
	c.cancel()
	c.done.Wait()
}

// order lists Kind/name of the objects created so far, the first created first.
func (c *creations) order() []string {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Empty(c.t, c.errs)
	ids := make([]string, 0, len(c.rv))
	for id := range c.rv {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return c.rv[ids[i]] < c.rv[ids[j]] })
	return ids
}

// playKubelet plays the kubelet and the Deployment controller for the application Deployments
// of namespace ns (there are none here): once a Deployment's spec is seen, its status says every
// replica is up. The database side stays real; only the app's Pods are imaginary.
func playKubelet(ns string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			list, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range list.Items {
					markAvailable(ctx, &list.Items[i])
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func markAvailable(ctx context.Context, d *appsv1.Deployment) {
	if d.DeletionTimestamp != nil || d.Status.ObservedGeneration == d.Generation {
		return
	}
	r := int32(1)
	if d.Spec.Replicas != nil {
		r = *d.Spec.Replicas
	}
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: "True", Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	_, _ = kc.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
}

// pgSecrets creates the journey's target and dev databases on the private PostgreSQL and the
// Secrets app-db and app-dev holding their URLs (what a user's secret manager provides).
func (g *gitops) pgSecrets() {
	g.t.Helper()
	url, devURL := pgDatabases(g.t, g.ns)
	secret(g.t, g.ns, "app-db", url)
	secret(g.t, g.ns, "app-dev", devURL)
}

// readyTransition is the lastTransitionTime of the AtlasMigration's Ready=True condition.
func readyTransition(t *testing.T, ns, name string) time.Time {
	t.Helper()
	u, err := dyn.Resource(atlas.MigrationGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	c := condition(u, "Ready")
	require.Equal(t, "True", nested(c, "status"), "Ready condition: %v", c)
	at, err := time.Parse(time.RFC3339, nested(c, "lastTransitionTime"))
	require.NoError(t, err)
	return at
}

// deploymentApplied is when Argo CD first wrote the Deployment (its managedFields entry, or the
// creation time).
func deploymentApplied(t *testing.T, ns, name string) time.Time {
	t.Helper()
	d, err := kc.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return d.CreationTimestamp.Time
}

// deploymentAbsent asserts the Deployment was never created.
func deploymentAbsent(t *testing.T, ns, name string) {
	t.Helper()
	_, err := kc.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "Deployment %s/%s exists (err %v): the app wave ran", ns, name, err)
}

// installHealthChecks installs the health checks in one of the two forms users use:
// "patch" (healthcheck generate --format kustomize, patched into the running argocd-cm) or
// "component" (the argocd/ Component of the scaffolded folder in the kustomization that installs
// Argo CD). Both start from Argo CD's stock argocd-cm.
func installHealthChecks(t *testing.T, form, folder string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, acd.InstallConfig(ctx))
	cm, err := kc.CoreV1().ConfigMaps(argocd.Namespace).Get(ctx, "argocd-cm", metav1.GetOptions{})
	require.NoError(t, err)
	for k := range cm.Data {
		require.NotContains(t, k, atlas.Group, "stock argocd-cm carries no Atlas key")
	}
	switch form {
	case "patch":
		r := run(t, "healthcheck", "generate", "--format", "kustomize")
		requireExit(t, r, 0)
		require.NoError(t, acd.PatchConfigMap(ctx, []byte(r.stdout)))
	case "component":
		require.NoError(t, acd.InstallConfig(ctx, filepath.Join(folder, "argocd")))
	default:
		t.Fatalf("unknown health-check form %q", form)
	}
	cm, err = kc.CoreV1().ConfigMaps(argocd.Namespace).Get(ctx, "argocd-cm", metav1.GetOptions{})
	require.NoError(t, err)
	var keys []string
	for k := range cm.Data {
		if strings.Contains(k, atlas.Group) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	t.Logf("argocd-cm Atlas keys (%s): %v", form, keys)
	require.Contains(t, keys, "resource.customizations.health.db.atlasgo.io_AtlasMigration")
	require.Contains(t, keys, "resource.customizations.health.db.atlasgo.io_AtlasSchema")
}

// Journey 1 (and 5): the versioned flow of Atlas's Argo CD guide. A repository holding what
// `init --with-app IMAGE --argocd-app` writes; the health checks installed in each form users use;
// the scaffolded Application, with its ServerSideApply=true and without. Argo CD applies the
// ConfigMap and the AtlasMigration, holds the app back until our check says Healthy, ends Synced
// and Healthy with the tables in PostgreSQL, and stays Synced after the operator's status writes.
func TestGitOpsVersioned(t *testing.T) {
	for _, c := range []struct {
		form string
		ssa  bool
	}{{"patch", true}, {"component", false}} {
		t.Run(fmt.Sprintf("%s-ssa-%v", c.form, c.ssa), func(t *testing.T) { gitopsVersioned(t, h.Postgres, c.form, c.ssa) })
	}
}

// Journey 7: journey 1 on MariaDB (Atlas's Argo CD guides use MySQL), with a dev database.
func TestGitOpsVersionedMariaDB(t *testing.T) {
	srv, err := databases.StartMariaDB(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Stop()) })
	gitopsVersioned(t, srv, "patch", true)
}

func gitopsVersioned(t *testing.T, srv *databases.Server, form string, ssa bool) {
	ctx := context.Background()
	g := newGitOps(t)
	url, err := srv.CreateDatabase(ctx, dbName(g.ns))
	require.NoError(t, err)
	devURL, err := srv.CreateDatabase(ctx, dbName(g.ns)+"_dev")
	require.NoError(t, err)
	secret(t, g.ns, "app-db", url)
	secret(t, g.ns, "app-dev", devURL)
	migrationDir(t, g.dir, v1Files)
	requireExit(t, run(t, g.initArgs("--dev-url-secret", "app-dev:url")...), 0)
	installHealthChecks(t, form, g.folder)
	gate := watchGate(t, g.ns, "app-app", appImage, atlas.MigrationGVR, "app")
	created := watchCreations(t, g.ns, configMapGVR, deploymentGVR, atlas.MigrationGVR)
	sha, committed := g.commit("atlas: " + v1)
	g.createApplication(func(u *unstructured.Unstructured) {
		if !ssa {
			dropSyncOption(t, u, "ServerSideApply=true")
		}
	})
	app := g.healthyAt(sha)
	order := created.order()
	t.Logf("commit %s -> Synced/Healthy in %s\n%s", sha[:7], time.Since(committed).Round(time.Millisecond), app.Summary())

	// What Argo CD applied, in order: the ConfigMap and the AtlasMigration (wave 1), then the app.
	assert.Equal(t, []string{"ConfigMap/app-migrations", "AtlasMigration/app", "Deployment/app-app"}, g.applied(order))
	for _, r := range app.Status.OperationState.SyncResult.Resources {
		assert.Equal(t, "Synced", r.Status, "%s/%s: %s", r.Kind, r.Name, r.Message)
	}
	am := app.Resource("AtlasMigration", "app")
	require.NotNil(t, am)
	require.NotNil(t, am.Health)
	assert.Equal(t, "Healthy", am.Health.Status)
	assert.Equal(t, "applied version "+v1, am.Health.Message, "our health script's message in the Application")
	// The gate: the first look at the Deployment found the AtlasMigration already Ready for its
	// generation; and by the clocks of the API server, the Deployment was created after the
	// AtlasMigration turned Ready (whole seconds; Argo CD also sleeps 2 s between waves).
	gate.check()
	ready, deployed := readyTransition(t, g.ns, "app"), deploymentApplied(t, g.ns, "app-app")
	assert.False(t, deployed.Before(ready), "Deployment created %s, before the AtlasMigration was Ready (%s)", deployed, ready)

	tables, err := srv.Tables(ctx, dbName(g.ns))
	require.NoError(t, err)
	assert.Contains(t, tables, "users")

	// kubectl atlas agrees with Argo CD.
	r := run(t, "status", "-n", g.ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasMigration\s+Healthy\s+Applied\s+`+v1+`\s`, row(r.stdout, "app"))
	r = run(t, "wait", "atlasmigration/app", "-n", g.ns, "--for", "applied="+v1, "--timeout", "1m")
	requireExit(t, r, 0)

	// Journey 6: kubectl atlas apply plans the same order Argo CD applied.
	samePlan(t, g, app, order)

	// Journey 5: no endless OutOfSync. Several comparisons after the operator's last status
	// write, the Application is still Synced with every object Synced and no new sync started.
	stillSynced(t, g, app)
}

// applied drops from Kind/name ids the destination Namespace that CreateNamespace=true (scaffolded) creates when it is
// missing (not an object of the folder; `kubectl atlas apply` ignores the option and says so).
func (g *gitops) applied(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id != "Namespace/"+g.ns {
			out = append(out, id)
		}
	}
	return out
}

// dropSyncOption removes one of the Application's sync options.
func dropSyncOption(t *testing.T, u *unstructured.Unstructured, opt string) {
	t.Helper()
	opts, _, err := unstructured.NestedStringSlice(u.Object, "spec", "syncPolicy", "syncOptions")
	require.NoError(t, err)
	var keep []any
	found := false
	for _, o := range opts {
		if o == opt {
			found = true
			continue
		}
		keep = append(keep, o)
	}
	require.True(t, found, "the scaffolded Application has %s", opt)
	require.NoError(t, unstructured.SetNestedSlice(u.Object, keep, "spec", "syncPolicy", "syncOptions"))
}

// stillSynced asks Argo CD to compare three more times (hard refreshes: the manifests are
// rendered again) and checks each time that the Application is Synced, every resource Synced,
// and the last operation is the one of the first sync (a diff would make the automated sync
// start another, with selfHeal).
func stillSynced(t *testing.T, g *gitops, synced *argocd.Application) {
	t.Helper()
	startedAt := synced.Status.OperationState.StartedAt
	for i := 0; i < 3; i++ {
		before := synced.Status.ReconciledAt
		require.NoError(t, acd.Refresh(context.Background(), g.app))
		app := g.wait("compared again", func(app *argocd.Application) bool { return app.Status.ReconciledAt != before })
		assert.Equal(t, "Synced", app.Status.Sync.Status, app.Summary())
		for _, r := range app.Status.Resources {
			assert.Equal(t, "Synced", r.Status, "%s/%s after the operator's status writes", r.Kind, r.Name)
		}
		assert.Equal(t, startedAt, app.Status.OperationState.StartedAt, "no new sync: %s", app.Summary())
		synced = app
		time.Sleep(time.Second) // reconciledAt has whole seconds
	}
}

// Journey 2: a migration the database refuses, committed. Argo CD never applies the app wave,
// the Application is Degraded with the operator's words, and kubectl atlas status and wait say
// the same.
func TestGitOpsRefusedMigration(t *testing.T) {
	g := newGitOps(t)
	g.pgSecrets()
	migrationDir(t, g.dir, map[string]string{
		v1 + "_users.sql": v1Files[v1+"_users.sql"],
		v2 + "_bad.sql":   "ALTER TABLE nosuch ADD COLUMN x integer;\n",
	})
	requireExit(t, run(t, g.initArgs("--dev-url-secret", "app-dev:url")...), 0)
	installHealthChecks(t, "patch", g.folder)
	sha, _ := g.commit("atlas: a migration PostgreSQL refuses")
	g.createApplication(nil)
	const words = `relation "nosuch" does not exist`
	app := g.wait("Degraded with the operator's words", func(app *argocd.Application) bool {
		am := app.Resource("AtlasMigration", "app")
		res := app.Result("AtlasMigration", "app")
		return app.Status.Health.Status == "Degraded" && am != nil && am.Health != nil && am.Health.Status == "Degraded" &&
			res != nil && strings.Contains(res.Message, words) && app.Status.Sync.Revision == sha
	})
	t.Log(app.Summary())
	am := app.Resource("AtlasMigration", "app")
	assert.Contains(t, am.Health.Message, "Migrating: ", "reason first, then the operator's message")
	assert.Contains(t, am.Health.Message, words)
	// The sync stops at wave 1: the Deployment is not among the results, and not in the cluster.
	assert.NotContains(t, g.applied(app.Applied()), "Deployment/app-app")
	assert.Equal(t, "Failed", app.Result("AtlasMigration", "app").HookPhase, "the AtlasMigration's result fails the sync")
	deploymentAbsent(t, g.ns, "app-app")
	d := app.Resource("Deployment", "app-app")
	require.NotNil(t, d, "Argo CD lists the app Deployment it has not applied")
	assert.Equal(t, "OutOfSync", d.Status)
	assert.Equal(t, "Missing", d.Health.Status)

	// kubectl atlas agrees with Argo CD's verdict.
	r := run(t, "status", "-n", g.ns)
	requireExit(t, r, 0)
	assert.Regexp(t, `^app\s+AtlasMigration\s+Degraded\s+Migrating\s`, row(r.stdout, "app"))
	r = run(t, "wait", "atlasmigration/app", "-n", g.ns, "--timeout", "1m")
	degraded(t, r, "Migrating", words)
	tables, err := h.Postgres.Tables(context.Background(), dbName(g.ns))
	require.NoError(t, err)
	assert.Equal(t, []string{"users"}, tables, "V1 applied, the refused V2 not")

	// Still not applied after Argo CD retried the sync (retry with backoff, as scaffolded).
	app = g.wait("a retry of the sync", func(app *argocd.Application) bool {
		op := app.Status.OperationState
		return op != nil && (strings.Contains(op.Message, "Retrying attempt") || op.Phase == "Failed" || op.Phase == "Error")
	})
	deploymentAbsent(t, g.ns, "app-app")
	assert.NotContains(t, g.applied(app.Applied()), "Deployment/app-app")
}

// Journey 2, the credential: the operator copies a URL it cannot parse, password included, into
// its condition. Under the configuration `healthcheck generate` emits by default (useOpenLibs for
// our two kinds, docs/redaction.md) no credential appears anywhere in the Application, and the
// user still reads what went wrong. Then, as a control, the same with --open-libs=false: Argo CD's
// default VM cannot redact, and the password is in the Application (what the default prevents).
func TestGitOpsCredentialInMessage(t *testing.T) {
	g := newGitOps(t)
	const password = "hunter2%zzTOPSECRET"
	secret(t, g.ns, "app-db", fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s", password, h.Postgres.Port, dbName(g.ns)))
	migrationDir(t, g.dir, v1Files)
	requireExit(t, run(t, g.initArgs()...), 0)
	installHealthChecks(t, "patch", g.folder)
	g.commit("atlas: " + v1)
	g.createApplication(nil)
	degradedApp := func(app *argocd.Application) bool {
		am := app.Resource("AtlasMigration", "app")
		res := app.Result("AtlasMigration", "app")
		return am != nil && am.Health != nil && am.Health.Status == "Degraded" && res != nil && strings.Contains(res.Message, "invalid URL escape")
	}
	app := g.wait("Degraded: invalid URL escape", degradedApp)
	t.Log(app.Summary())
	assert.Contains(t, app.Resource("AtlasMigration", "app").Health.Message, "invalid URL escape", "the user still sees what went wrong")
	for _, s := range []string{"hunter2", "TOPSECRET"} {
		assert.NotContains(t, app.Raw, s, "a credential in the Application")
	}
	r := run(t, "status", "-n", g.ns, "-o", "wide")
	requireExit(t, r, 0)
	noSecrets(t, r, "hunter2", "TOPSECRET")
	deploymentAbsent(t, g.ns, "app-app")

	// The control: without useOpenLibs the same message reaches the Application unredacted.
	r = run(t, "healthcheck", "generate", "--format", "kustomize", "--open-libs=false")
	requireExit(t, r, 0)
	require.NoError(t, acd.InstallConfig(context.Background()))
	require.NoError(t, acd.PatchConfigMap(context.Background(), []byte(r.stdout)))
	require.NoError(t, acd.Refresh(context.Background(), g.app))
	app = g.wait("the password shown by Argo CD's default VM", func(app *argocd.Application) bool {
		am := app.Resource("AtlasMigration", "app")
		return am != nil && am.Health != nil && strings.Contains(am.Health.Message, "TOPSECRET")
	})
	assert.Equal(t, "Degraded", app.Resource("AtlasMigration", "app").Health.Status)
}

// samePlan (journey 6) compares the plan `kubectl atlas apply -k FOLDER --dry-run=client` prints
// (waves, and the order inside them) with the order in which Argo CD applied the same folder (the
// order of creation, watchCreations) and the waves it recorded.
func samePlan(t *testing.T, g *gitops, app *argocd.Application, order []string) {
	t.Helper()
	r := run(t, "apply", "-k", g.folder, "--dry-run=client")
	requireExit(t, r, 0)
	var plan []string
	wave := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "wave ") && strings.Contains(line, ": "):
			wave, _, _ = strings.Cut(line, ":")
		case strings.HasPrefix(line, "  ") && strings.HasSuffix(line, " (dry run)"):
			id := strings.Fields(line)[0]
			res, name, _ := strings.Cut(id, "/")
			kind, _, _ := strings.Cut(res, ".")
			plan = append(plan, wave+" "+kind+"/"+name)
		}
	}
	var argo []string
	for _, id := range g.applied(order) {
		kind, name, _ := strings.Cut(id, "/")
		rs := app.Resource(kind, name)
		require.NotNil(t, rs, "%s in the Application's resources", id)
		argo = append(argo, fmt.Sprintf("wave %d %s/%s", rs.SyncWave, strings.ToLower(kind), name))
	}
	assert.Equal(t, argo, plan, "kubectl atlas apply's plan and Argo CD's applied order\n%s", r.stdout)
}

// Journey 4: the kustomize generator inside the real repo-server, configured as docs/kustomize.md
// tells users: kustomize.buildOptions in argocd-cm and kubectl-atlas on the repo-server's PATH. A
// new migration file committed rolls out under a new hashed ConfigMap, the operator applies it,
// and Argo CD prunes the old ConfigMap.
func TestGitOpsKustomizeGenerator(t *testing.T) {
	ctx := context.Background()
	g := newGitOps(t)
	g.pgSecrets()
	deploy := filepath.Join(g.repo.Dir, "deploy")
	gen := strings.Replace(generatorYAML, "      key: url\n", "      key: url\n  devURLFrom:\n    secretKeyRef:\n      name: app-dev\n      key: url\n", 1)
	writeFiles(t, deploy, map[string]string{
		"kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + g.ns + "\ngenerators:\n- generator.yaml\nconfigurations:\n- kustomizeconfig.yaml\n",
		"generator.yaml":       gen,
		"kustomizeconfig.yaml": string(scaffold.NameReferenceConfig()),
	})
	dir := filepath.Join(deploy, "migrations")
	migrationDir(t, dir, v1Files)
	installHealthChecks(t, "patch", "")
	require.NoError(t, acd.PatchConfigMap(ctx, []byte("data:\n  kustomize.buildOptions: --enable-alpha-plugins --enable-exec\n")))
	sha, _ := g.commit("deploy: generator, " + v1)
	u, err := scaffold.ArgoCDApplication(scaffold.ArgoCDOptions{Name: g.app, RepoURL: g.repo.URL, Path: "deploy", DestNamespace: g.ns})
	require.NoError(t, err)
	require.NoError(t, acd.Apply(ctx, u))
	app := g.healthyAt(sha)
	t.Log(app.Summary())
	cm1 := appliedConfigMap(t, app)
	require.True(t, strings.HasPrefix(cm1, "app-migrations-"), "a hashed name: %s", cm1)
	assert.Equal(t, "applied version "+v1, app.Resource("AtlasMigration", "app").Health.Message)

	writeFiles(t, dir, map[string]string{v2 + "_posts.sql": "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n"})
	rehash(t, dir)
	sha2, committed := g.commit("deploy: " + v2)
	results := map[string]string{} // what the sync of sha2 reported, gathered as it runs
	app = g.wait("Synced and Healthy at "+sha2[:7]+" with the old ConfigMap pruned", func(app *argocd.Application) bool {
		op := app.Status.OperationState
		if op != nil && op.SyncResult != nil && op.SyncResult.Revision == sha2 {
			for _, r := range op.SyncResult.Resources {
				results[r.Kind+"/"+r.Name] = r.Status
			}
		}
		return app.Status.Sync.Status == "Synced" && app.Status.Sync.Revision == sha2 && app.Status.Health.Status == "Healthy" &&
			op != nil && op.Phase == "Succeeded" && op.SyncResult != nil && op.SyncResult.Revision == sha2 &&
			app.Resource("ConfigMap", cm1) == nil
	})
	t.Logf("commit %s -> Healthy at %s, old ConfigMap pruned, in %s\n%s", sha2[:7], v2, time.Since(committed).Round(time.Millisecond), app.Summary())
	cm2 := appliedConfigMap(t, app)
	assert.NotEqual(t, cm1, cm2, "a new migration, a new ConfigMap name")
	assert.Equal(t, "applied version "+v2, app.Resource("AtlasMigration", "app").Health.Message)
	// The sync's own results are what the poll caught of them: under load Argo CD may replace an
	// operation state that waited on a wave before it is read (docs/argocd.md), so they are
	// logged, and the outcome is checked where it stays: the Application's resources and the
	// cluster.
	t.Logf("the sync's results as seen: %v", results)
	require.NotNil(t, app.Resource("ConfigMap", cm2), "the new ConfigMap is the Application's")
	assert.Equal(t, "Synced", app.Resource("ConfigMap", cm2).Status)
	_, err = kc.CoreV1().ConfigMaps(g.ns).Get(ctx, cm1, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "old ConfigMap %s still there: %v", cm1, err)
	tables, err := h.Postgres.Tables(ctx, dbName(g.ns))
	require.NoError(t, err)
	assert.Equal(t, []string{"posts", "users"}, tables)
	stillSynced(t, g, app)
}

// appliedConfigMap is the one ConfigMap the Application manages.
func appliedConfigMap(t *testing.T, app *argocd.Application) string {
	t.Helper()
	var names []string
	for _, r := range app.Status.Resources {
		if r.Kind == "ConfigMap" {
			names = append(names, r.Name)
		}
	}
	require.Len(t, names, 1, "ConfigMaps of the Application: %v", names)
	return names[0]
}

// Journey 3: the declarative flow, the schema in a ConfigMap (init --schema-configmap). A schema
// change committed (with a new app image, so the app wave has work too): Argo CD resyncs, and
// the app Deployment is updated only once the AtlasSchema is Ready for its new generation — a
// stale Ready=True of the old one never opens the gate.
func TestGitOpsDeclarativeSchemaConfigMap(t *testing.T) {
	ctx := context.Background()
	g := newGitOps(t)
	g.pgSecrets()
	writeFiles(t, g.repo.Dir, map[string]string{"schema.sql": usersSchema})
	args := []string{"init", "--schema", filepath.Join(g.repo.Dir, "schema.sql"), "--schema-configmap", "--name", "app", "-n", g.ns, "--url-secret", "app-db:url",
		"--dev-url-secret", "app-dev:url", "--argocd-app", "--repo-url", g.repo.URL, "--path", "atlas", "--out", g.folder, "--force"}
	requireExit(t, run(t, append(args, "--with-app", appImage)...), 0)
	installHealthChecks(t, "component", g.folder)
	created := watchCreations(t, g.ns, configMapGVR, deploymentGVR, atlas.SchemaGVR)
	sha, _ := g.commit("schema: users")
	g.createApplication(nil)
	app := g.healthyAt(sha)
	order := created.order()
	t.Log(app.Summary())
	samePlan(t, g, app, order)
	tables, err := h.Postgres.Tables(ctx, dbName(g.ns))
	require.NoError(t, err)
	assert.Equal(t, []string{"users"}, tables)

	writeFiles(t, g.repo.Dir, map[string]string{"schema.sql": postsSchema})
	const image2 = "ghcr.io/acme/app:2.0"
	requireExit(t, run(t, append(args, "--with-app", image2)...), 0)
	gate := watchGate(t, g.ns, "app-app", image2, atlas.SchemaGVR, "app")
	sha2, _ := g.commit("schema: posts, app 2.0")
	app = g.healthyAt(sha2)
	t.Log(app.Summary())
	gate.check()
	tables, err = h.Postgres.Tables(ctx, dbName(g.ns))
	require.NoError(t, err)
	assert.Equal(t, []string{"posts", "users"}, tables)
	r := run(t, "wait", "atlasschema/app", "-n", g.ns, "--timeout", "1m")
	requireExit(t, r, 0)
	stillSynced(t, g, app)
}

// gate watches the order of two events: the Deployment gets image, and the Atlas resource is
// Ready for its current generation. Each round reads the Deployment first, then the Atlas
// resource: the first round that sees the new image must also see the resource Ready for the
// generation it has, or the app wave started before the schema was applied. No clock involved.
type gate struct {
	t      *testing.T
	stop   func()
	result chan string
}

func watchGate(t *testing.T, ns, deployment, image string, gvr schema.GroupVersionResource, name string) *gate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gate{t: t, stop: cancel, result: make(chan string, 1)}
	go func() {
		for ctx.Err() == nil {
			d, err := kc.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
			if err == nil && len(d.Spec.Template.Spec.Containers) > 0 && d.Spec.Template.Spec.Containers[0].Image == image {
				u, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
				switch {
				case err != nil:
					g.result <- "reading the Atlas resource: " + err.Error()
				case nested(condition(u, "Ready"), "status") != "True" || observedGeneration(u) != u.GetGeneration():
					g.result <- fmt.Sprintf("the Deployment has %s while %s is not Ready for generation %d (observed %d, Ready %s %s)",
						image, name, u.GetGeneration(), observedGeneration(u), nested(condition(u, "Ready"), "status"), nested(condition(u, "Ready"), "reason"))
				default:
					g.result <- ""
				}
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return g
}

// check waits for the gate's verdict (the Deployment must have been updated by now).
func (g *gate) check() {
	g.t.Helper()
	defer g.stop()
	select {
	case msg := <-g.result:
		assert.Empty(g.t, msg, "the app wave started before the schema was applied")
	case <-time.After(time.Minute):
		g.t.Error("the gate watcher never saw the Deployment's new image")
	}
}

// The measure of the closing note: commit -> Application Healthy, five commits of one new
// migration each (commit, then the refresh a git host's webhook triggers), with the phases as
// this test sees them (polling the Application every 200 ms) and the operator's own reconcile
// time from its log. Only printed: nothing here asserts a duration.
func TestGitOpsCommitToHealthy(t *testing.T) {
	ctx := context.Background()
	g := newGitOps(t)
	g.pgSecrets()
	migrationDir(t, g.dir, v1Files)
	requireExit(t, run(t, g.initArgs("--dev-url-secret", "app-dev:url")...), 0)
	installHealthChecks(t, "patch", g.folder)
	sha, _ := g.commit("atlas: " + v1)
	g.createApplication(nil)
	g.healthyAt(sha)
	var totals []time.Duration
	for i := 1; i <= 5; i++ {
		version := fmt.Sprintf("2024020%d000000", i)
		writeFiles(t, g.dir, map[string]string{version + "_t.sql": fmt.Sprintf("CREATE TABLE t%d (id integer PRIMARY KEY);\n", i)})
		rehash(t, g.dir)
		requireExit(t, run(t, g.initArgs("--dev-url-secret", "app-dev:url")...), 0)
		sha, committed := g.commit("atlas: " + version)
		seen := map[string]time.Duration{}
		mark := func(k string, ok bool) {
			if _, done := seen[k]; ok && !done {
				seen[k] = time.Since(committed)
			}
		}
		g.wait("Synced and Healthy at "+version, func(app *argocd.Application) bool {
			op := app.Status.OperationState
			mark("refreshed (new revision seen)", app.Status.Sync.Revision == sha)
			mark("sync started", op != nil && op.SyncResult != nil && op.SyncResult.Revision == sha && op.Phase == "Running")
			am := app.Resource("AtlasMigration", "app")
			mark("AtlasMigration Healthy in the Application", am != nil && am.Health != nil && am.Health.Message == "applied version "+version)
			mark("Deployment applied (wave 2)", op != nil && op.SyncResult != nil && op.SyncResult.Revision == sha && app.Result("Deployment", "app-app") != nil)
			done := app.Status.Sync.Status == "Synced" && app.Status.Sync.Revision == sha && app.Status.Health.Status == "Healthy" &&
				op != nil && op.Phase == "Succeeded" && op.SyncResult != nil && op.SyncResult.Revision == sha
			mark("Synced, Healthy, sync Succeeded", done)
			return done
		})
		total := seen["Synced, Healthy, sync Succeeded"]
		totals = append(totals, total)
		line := fmt.Sprintf("commit %d -> Healthy %s:", i, total.Round(10*time.Millisecond))
		for _, k := range []string{"refreshed (new revision seen)", "sync started", "AtlasMigration Healthy in the Application", "Deployment applied (wave 2)"} {
			line += fmt.Sprintf(" %s +%s;", k, seen[k].Round(10*time.Millisecond))
		}
		if start, end, ok := h.OperatorSpan(g.ns, "app", "Applied", committed); ok {
			line += fmt.Sprintf(" operator reconcile %s (from +%s)", end.Sub(start).Round(10*time.Millisecond), start.Sub(committed).Round(10*time.Millisecond))
		}
		t.Log(line)
		fmt.Fprintln(os.Stderr, "e2e gitops timing:", line)
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	fmt.Fprintf(os.Stderr, "e2e gitops timing: commit -> Healthy, median of %d: %s (min %s, max %s)\n", len(totals),
		totals[len(totals)/2].Round(10*time.Millisecond), totals[0].Round(10*time.Millisecond), totals[len(totals)-1].Round(10*time.Millisecond))
	tables, err := h.Postgres.Tables(ctx, dbName(g.ns))
	require.NoError(t, err)
	assert.Contains(t, tables, "t5")
}
