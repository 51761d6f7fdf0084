// Command demogitops is `make demo-gitops`: the whole GitOps loop for a person to watch, printed
// step by step. A git commit of what `kubectl atlas init --argocd-app` writes -> a real Argo CD
// v3.5.1 (repo-server + application-controller, bin/argocd) syncs it in waves, gated by our health
// checks -> the real Atlas Operator v0.7.37 migrates a SQLite database -> the tables. Then a new
// migration, committed, goes round the loop again. Everything runs locally on the test control
// plane (kube-apiserver + etcd); everything started is stopped on exit.
//
// There is no kubelet: the demo marks the app's Deployment available once Argo CD has written it
// (it says so). The database side is real.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/argocd"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

const (
	ns  = "demo"
	v1  = "20240101000000"
	v2  = "20240102000000"
	img = "ghcr.io/acme/shop:1.0"
)

var bold, reset = "", ""

func main() {
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" {
		bold, reset = "\033[1m", "\033[0m"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo-gitops:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n%s==> %s%s\n", bold, fmt.Sprintf(format, args...), reset)
}

func run(ctx context.Context) (err error) {
	plugin, err := filepath.Abs("bin/kubectl-atlas")
	if err != nil {
		return err
	}
	if _, err := os.Stat(plugin); err != nil {
		return errors.New("bin/kubectl-atlas is missing: run `make build` (make demo-gitops does)")
	}
	start := time.Now()
	step("Start a local control plane, the real Atlas Operator %s and Argo CD %s", operator.Version, argocd.Version)
	h, err := operator.Start(ctx, operator.Options{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, h.Stop()) }()
	acd, err := argocd.Start(ctx, argocd.Options{Kubeconfig: h.Env.Kubeconfig, Config: h.Env.Config, RepoServerPath: []string{filepath.Dir(plugin)}})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, acd.Stop()) }()
	fmt.Printf("up in %s (operator running %s)\n", time.Since(start).Round(100*time.Millisecond), h.AtlasVersion)
	kc := kubernetes.NewForConfigOrDie(h.Env.Config)
	d := &demo{ctx: ctx, h: h, acd: acd, kc: kc, plugin: plugin}
	return d.loop()
}

type demo struct {
	ctx    context.Context
	h      *operator.Harness
	acd    *argocd.ArgoCD
	kc     kubernetes.Interface
	plugin string
	repo   *argocd.Repo
}

// atlas shows a kubectl atlas command as a user types it and runs bin/kubectl-atlas.
func (d *demo) atlas(args ...string) (string, error) {
	fmt.Printf("%s$ kubectl atlas %s%s\n", bold, strings.Join(args, " "), reset)
	cmd := exec.CommandContext(d.ctx, d.plugin, append([]string{"--kubeconfig", d.h.Env.Kubeconfig}, args...)...)
	cmd.Dir = d.repo.Dir
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	return out.String(), err
}

func (d *demo) loop() error {
	ctx := d.ctx
	var err error
	if d.repo, err = d.acd.NewRepo("shop"); err != nil {
		return err
	}
	if _, err := d.kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if err := d.h.PrepareHome(ns, "shop"); err != nil {
		return err
	}
	db := d.h.SQLite("shop")
	if _, err := d.kc.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-db"}, StringData: map[string]string{"url": db.URL()}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	go d.playKubelet()

	step("A git repository (%s) with a migration directory", d.repo.URL)
	if err := d.write("migrations/"+v1+"_users.sql", "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n"); err != nil {
		return err
	}
	initArgs := []string{"init", "--dir", "migrations", "--hash", "--name", "shop", "-n", ns, "--url-secret", "shop-db:url",
		"--with-app", img, "--argocd-app", "--repo-url", d.repo.URL, "--path", "atlas", "--out", "atlas", "--force"}
	out, err := d.atlas(initArgs...)
	fmt.Print(out)
	if err != nil {
		return err
	}

	step("Install the Atlas health checks into Argo CD (the argocd/ Component of the folder)")
	fmt.Printf("%s$ kustomize build <Argo CD's config> with components: [atlas/argocd] | kubectl apply -f -%s\n", bold, reset)
	if err := d.acd.InstallConfig(ctx, filepath.Join(d.repo.Dir, "atlas", "argocd")); err != nil {
		return err
	}

	step("git commit, then create the Application Argo CD syncs")
	sha, err := d.repo.CommitAll("shop: first migration")
	if err != nil {
		return err
	}
	fmt.Printf("%s$ git commit%s -> %.7s\n", bold, reset, sha)
	fmt.Printf("%s$ kubectl apply -f atlas/argocd/application.yaml%s\n", bold, reset)
	b, err := os.ReadFile(filepath.Join(d.repo.Dir, "atlas", "argocd", "application.yaml"))
	if err != nil {
		return err
	}
	app := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &app.Object); err != nil {
		return err
	}
	if err := d.acd.Apply(ctx, app); err != nil {
		return err
	}
	committed := time.Now()
	if err := d.watch(sha); err != nil {
		return err
	}
	fmt.Printf("commit -> Healthy in %s\n", time.Since(committed).Round(100*time.Millisecond))
	if err := d.status(db); err != nil {
		return err
	}

	step("A second migration, committed: Argo CD syncs it (a webhook would trigger the refresh)")
	if err := d.write("migrations/"+v2+"_orders.sql", "CREATE TABLE orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n"); err != nil {
		return err
	}
	if out, err = d.atlas(initArgs...); err != nil {
		return err
	}
	if sha, err = d.repo.CommitAll("shop: orders"); err != nil {
		return err
	}
	fmt.Printf("%s$ git commit%s -> %.7s\n", bold, reset, sha)
	committed = time.Now()
	if err := d.acd.Refresh(ctx, "shop"); err != nil {
		return err
	}
	if err := d.watch(sha); err != nil {
		return err
	}
	fmt.Printf("commit -> Healthy in %s\n", time.Since(committed).Round(100*time.Millisecond))
	return d.status(db)
}

func (d *demo) write(name, content string) error {
	p := filepath.Join(d.repo.Dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// watch prints every change of the Application as Argo CD reports it, until it is Synced and
// Healthy at sha (a hang guard of 5 min).
func (d *demo) watch(sha string) error {
	step("Argo CD at work (the Application's status as it changes)")
	last := ""
	_, err := d.acd.WaitApplication(d.ctx, "shop", "Synced and Healthy", 5*time.Minute, func(app *argocd.Application) bool {
		var lines []string
		lines = append(lines, fmt.Sprintf("sync %s (%.7s), health %s", app.Status.Sync.Status, app.Status.Sync.Revision, app.Status.Health.Status))
		for _, r := range app.Status.Resources {
			h := ""
			if r.Health != nil {
				h = " " + r.Health.Status
				if r.Health.Message != "" {
					h += ": " + r.Health.Message
				}
			}
			lines = append(lines, fmt.Sprintf("  wave %d %-15s %-16s %s%s", r.SyncWave, r.Kind, r.Name, r.Status, h))
		}
		now := strings.Join(lines, "\n")
		if now != last {
			fmt.Printf("[%s]\n%s\n", time.Now().Format("15:04:05.0"), now)
			last = now
		}
		op := app.Status.OperationState
		return app.Status.Sync.Status == "Synced" && app.Status.Sync.Revision == sha && app.Status.Health.Status == "Healthy" &&
			op != nil && op.Phase == "Succeeded" && op.SyncResult != nil && op.SyncResult.Revision == sha
	})
	if err != nil {
		return err
	}
	app, err := d.acd.GetApplication(d.ctx, "shop")
	if err != nil {
		return err
	}
	fmt.Printf("applied in this order: %s\n", strings.Join(app.Applied(), ", "))
	return nil
}

func (d *demo) status(db interface {
	Tables(context.Context) ([]string, error)
}) error {
	out, err := d.atlas("status", "-n", ns)
	fmt.Print(out)
	if err != nil {
		return err
	}
	tables, err := db.Tables(d.ctx)
	if err != nil {
		return err
	}
	fmt.Printf("tables in the SQLite database: %s\n", strings.Join(tables, ", "))
	return nil
}

// playKubelet marks the app's Deployment available (no kubelet runs here).
func (d *demo) playKubelet() {
	said := false
	for d.ctx.Err() == nil {
		list, err := d.kc.AppsV1().Deployments(ns).List(d.ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				dep := &list.Items[i]
				if dep.Status.ObservedGeneration == dep.Generation {
					continue
				}
				if !said {
					fmt.Println("(no kubelet here: the demo marks the app's Deployment available)")
					said = true
				}
				dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
				_, _ = d.kc.AppsV1().Deployments(ns).UpdateStatus(d.ctx, dep, metav1.UpdateOptions{})
			}
		}
		select {
		case <-d.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
