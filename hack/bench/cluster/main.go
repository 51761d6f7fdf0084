// Command cluster compares kubectl-atlas's in-cluster verbs with kubectl on the project's test
// control plane (internal/testenv), in the same run, and prints medians and ratios:
//
//   - wait latency: from the operator's status write to the process exit (kubectl atlas wait vs
//     kubectl wait --for=condition=Ready), median over flips;
//   - status over 1,000 AtlasMigrations vs kubectl get atlasmigrations -o json (wall time);
//   - apply of 60 objects in 3 waves that are healthy at once vs kubectl apply --server-side.
//
// Usage: go run ./hack/bench/cluster -plugin bin/kubectl-atlas -kubectl bin/testbin/kubectl
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testenv"
)

var (
	pluginBin  = flag.String("plugin", "bin/kubectl-atlas", "kubectl-atlas binary")
	kubectlBin = flag.String("kubectl", "bin/testbin/kubectl", "kubectl binary")
	flips      = flag.Int("flips", 20, "status flips per tool for the wait latency")
	statusN    = flag.Int("status-objects", 1000, "AtlasMigrations for the status comparison")
	runs       = flag.Int("runs", 5, "runs per tool for status and apply")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	env        *testenv.Env
	dyn        dynamic.Interface
	kc         kubernetes.Interface
	kubeconfig string
}

func run() error {
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		return err
	}
	defer env.Stop()
	b := &bench{env: env, dyn: dynamic.NewForConfigOrDie(env.Config), kc: kubernetes.NewForConfigOrDie(env.Config), kubeconfig: env.Kubeconfig}
	// Warm both binaries' discovery caches and the page cache.
	for _, c := range []*exec.Cmd{b.cmd(*kubectlBin, "get", "atlasmigrations", "-n", "default"), b.cmd(*pluginBin, "status", "-n", "default")} {
		c.Stderr = nil
		_ = c.Run()
	}

	ours, theirs, err := b.waitLatency()
	if err != nil {
		return err
	}
	report("wait latency (status write -> exit), median of "+fmt.Sprint(*flips), ours, theirs, 1.0, "kubectl wait --for=condition=Ready")

	ours, theirs, err = b.status()
	if err != nil {
		return err
	}
	report(fmt.Sprintf("status over %d AtlasMigrations, median of %d", *statusN, *runs), ours, theirs, 1.5, "kubectl get atlasmigrations -o json")

	ours, theirs, err = b.apply()
	if err != nil {
		return err
	}
	report(fmt.Sprintf("apply of 60 objects in 3 waves, median of %d", *runs), ours, theirs, 1.5, "kubectl apply --server-side -f")
	return nil
}

func report(what string, ours, theirs time.Duration, limit float64, vs string) {
	ratio := float64(ours) / float64(theirs)
	verdict := "ok"
	if ratio > limit {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%-58s kubectl-atlas %8s  %-38s %8s  ratio %.2f (target <= %.1f) %s\n",
		what, ours.Round(time.Millisecond), vs, theirs.Round(time.Millisecond), ratio, limit, verdict)
}

func (b *bench) cmd(bin string, args ...string) *exec.Cmd {
	c := exec.Command(bin, append([]string{"--kubeconfig", b.kubeconfig}, args...)...)
	c.Stderr = os.Stderr
	return c
}

func (b *bench) namespace(name string) error {
	_, err := b.kc.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return err
}

func migration(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": atlas.Group + "/" + atlas.Version, "kind": atlas.KindAtlasMigration,
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"urlFrom": map[string]any{"secretKeyRef": map[string]any{"name": "db", "key": "url"}},
			"dir":     map[string]any{"configMapRef": map[string]any{"name": name + "-migrations"}},
		},
	}}
}

// setReady writes what the operator writes on success, through the status subresource.
func (b *bench) setReady(ns, name string, ready bool) error {
	ctx := context.Background()
	ri := b.dyn.Resource(atlas.MigrationGVR).Namespace(ns)
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	gen := obj.GetGeneration()
	st, reason := "False", "Reconciling"
	if ready {
		st, reason = "True", "Applied"
	}
	other := map[bool]string{true: "False", false: "True"}[ready]
	now := time.Now().UTC().Format(time.RFC3339)
	cond := func(typ, status string) map[string]any {
		return map[string]any{"type": typ, "status": status, "reason": reason, "message": "", "observedGeneration": gen, "lastTransitionTime": now}
	}
	obj.Object["status"] = map[string]any{
		"observedGeneration": gen, "observed_hash": "h", "failed": int64(0), "lastApplied": time.Now().Unix(), "lastAppliedVersion": "1",
		"conditions": []any{cond("Ready", st), cond("Reconciling", other), cond("Stalled", "False")},
	}
	_, err = ri.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	return err
}

// waitLatency alternates the two tools; each waits for a fresh migration whose Ready flips.
func (b *bench) waitLatency() (time.Duration, time.Duration, error) {
	ns := "bench-wait"
	if err := b.namespace(ns); err != nil {
		return 0, 0, err
	}
	var ours, theirs []time.Duration
	for i := 0; i < *flips; i++ {
		for _, tool := range []string{"ours", "kubectl"} {
			name := fmt.Sprintf("%s-%d", tool, i)
			if _, err := b.dyn.Resource(atlas.MigrationGVR).Namespace(ns).Create(context.Background(), migration(ns, name), metav1.CreateOptions{}); err != nil {
				return 0, 0, err
			}
			if err := b.setReady(ns, name, false); err != nil {
				return 0, 0, err
			}
			var c *exec.Cmd
			if tool == "ours" {
				c = b.cmd(*pluginBin, "wait", "-n", ns, "atlasmigration/"+name, "--timeout", "60s")
			} else {
				c = b.cmd(*kubectlBin, "wait", "-n", ns, "atlasmigration/"+name, "--for=condition=Ready", "--timeout", "60s")
			}
			if err := c.Start(); err != nil {
				return 0, 0, err
			}
			time.Sleep(1500 * time.Millisecond) // both are watching by now
			t0 := time.Now()
			if err := b.setReady(ns, name, true); err != nil {
				return 0, 0, err
			}
			if err := c.Wait(); err != nil {
				return 0, 0, fmt.Errorf("%s wait: %w", tool, err)
			}
			d := time.Since(t0)
			if tool == "ours" {
				ours = append(ours, d)
			} else {
				theirs = append(theirs, d)
			}
		}
	}
	return median(ours), median(theirs), nil
}

func (b *bench) status() (time.Duration, time.Duration, error) {
	ns := "bench-status"
	if err := b.namespace(ns); err != nil {
		return 0, 0, err
	}
	var wg sync.WaitGroup
	errs := make(chan error, *statusN)
	sem := make(chan struct{}, 16)
	for i := 0; i < *statusN; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := fmt.Sprintf("m%04d", i)
			if _, err := b.dyn.Resource(atlas.MigrationGVR).Namespace(ns).Create(context.Background(), migration(ns, name), metav1.CreateOptions{}); err != nil {
				errs <- err
				return
			}
			if err := b.setReady(ns, name, i%10 != 0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	return b.compare(
		func(int) *exec.Cmd { return b.cmd(*pluginBin, "status", "-n", ns) },
		func(int) *exec.Cmd { return b.cmd(*kubectlBin, "get", "atlasmigrations", "-n", ns, "-o", "json") })
}

// apply: 60 objects (ConfigMaps, Secrets, Services: healthy at once) in waves 0, 1, 2, each run
// into a fresh namespace so both tools create everything.
func (b *bench) apply() (time.Duration, time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-apply-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	for wave := 0; wave < 3; wave++ {
		var docs string
		for i := 0; i < 20; i++ {
			ann := fmt.Sprintf("  annotations: {argocd.argoproj.io/sync-wave: \"%d\"}\n", wave)
			switch i % 3 {
			case 0:
				docs += fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d-%d\n%sdata: {k: v%d}\n", wave, i, ann, i)
			case 1:
				docs += fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%d-%d\n%sstringData: {k: v%d}\n", wave, i, ann, i)
			default:
				docs += fmt.Sprintf("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d-%d\n%sspec: {ports: [{port: 80}], selector: {app: a}}\n", wave, i, ann)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("wave%d.yaml", wave)), []byte(docs), 0o644); err != nil {
			return 0, 0, err
		}
	}
	for i := 0; i < *runs; i++ {
		for _, p := range []string{"ours", "theirs"} {
			if err := b.namespace(fmt.Sprintf("bench-apply-%s-%d", p, i)); err != nil {
				return 0, 0, err
			}
		}
	}
	return b.compare(
		func(i int) *exec.Cmd {
			return b.cmd(*pluginBin, "apply", "-n", fmt.Sprintf("bench-apply-ours-%d", i), "-f", dir)
		},
		func(i int) *exec.Cmd {
			return b.cmd(*kubectlBin, "apply", "--server-side", "-n", fmt.Sprintf("bench-apply-theirs-%d", i), "-f", dir)
		})
}

// compare runs both commands alternately and returns their median wall times.
func (b *bench) compare(ours, theirs func(i int) *exec.Cmd) (time.Duration, time.Duration, error) {
	var a, k []time.Duration
	for i := 0; i < *runs; i++ {
		for j, mk := range []func(int) *exec.Cmd{ours, theirs} {
			c := mk(i)
			start := time.Now()
			if err := c.Run(); err != nil {
				return 0, 0, fmt.Errorf("%v: %w", c.Args, err)
			}
			if j == 0 {
				a = append(a, time.Since(start))
			} else {
				k = append(k, time.Since(start))
			}
		}
	}
	return median(a), median(k), nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
