// Command cluster compares kubectl-atlas's in-cluster verbs with kubectl on the project's test
// control plane (internal/testbed/controlplane), in the same run, prints medians and ratios, and exits 1 when
// a ratio misses its target:
//
//   - wait latency: from the operator's status write to the process exit (kubectl atlas wait vs
//     kubectl wait --for=condition=Ready), median over flips;
//   - status -A -o json over 10,000 AtlasMigrations in 100 namespaces vs kubectl get atlasmigrations -A
//     -o json: wall time and peak memory (max RSS), each <= 0.5x;
//   - wait --all over 1,000 Ready AtlasMigrations vs kubectl wait --all --for=condition=Ready
//     (<= 0.5x);
//   - apply of 1,000 objects in 5 waves, with PreSync/PostSync and Helm hooks and Argo CD health
//     (healthy at once), vs kubectl apply --server-side of the same folder (<= 0.1x).
//
// Usage: go run ./hack/bench/cluster -plugin bin/kubectl-atlas -kubectl bin/testbin/kubectl
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

var (
	pluginBin  = flag.String("plugin", "bin/kubectl-atlas", "kubectl-atlas binary")
	kubectlBin = flag.String("kubectl", "bin/testbin/kubectl", "kubectl binary")
	flips      = flag.Int("flips", 10, "status flips per tool for the wait latency")
	statusN    = flag.Int("status-objects", 10000, "AtlasMigrations for the status -A comparison")
	statusNS   = flag.Int("status-namespaces", 100, "namespaces they are spread over")
	waitN      = flag.Int("wait-objects", 1000, "Ready AtlasMigrations for the wait --all comparison")
	applyN     = flag.Int("apply-objects", 1000, "objects of the apply comparison (5 waves)")
	runs       = flag.Int("runs", 3, "runs per tool for status, wait --all and apply")
	only       = flag.String("only", "wait,status,wait-all,apply", "figures to measure, comma-separated")
)

func want(figure string) bool {
	for _, f := range strings.Split(*only, ",") {
		if f == figure {
			return true
		}
	}
	return false
}

// missed is set when a figure misses its target; the command then exits 1.
var missed bool

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if missed {
		fmt.Fprintln(os.Stderr, "bench: a target was missed")
		os.Exit(1)
	}
}

type bench struct {
	env        *controlplane.Env
	dyn        dynamic.Interface
	kc         kubernetes.Interface
	kubeconfig string
}

func run() error {
	env, err := controlplane.Start(controlplane.Options{})
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

	fmt.Println("| figure | kubectl-atlas | kubectl | ratio | target | verdict |\n| --- | --- | --- | --- | --- | --- |")
	if want("wait") {
		ours, theirs, err := b.waitLatency()
		if err != nil {
			return err
		}
		report("wait latency (status write -> exit), median of "+fmt.Sprint(*flips), ours, theirs, 1.0, "kubectl wait --for=condition=Ready")
	}
	if want("status") {
		st, err := b.status()
		if err != nil {
			return err
		}
		what := fmt.Sprintf("status -A -o json, %d AtlasMigrations in %d namespaces", *statusN, *statusNS)
		report(what+", time", st.ours.wall, st.theirs.wall, 0.5, "kubectl get -A -o json")
		reportMem(what+", peak memory", st.ours.maxRSS, st.theirs.maxRSS, 0.5, "kubectl get -A -o json")
	}
	if want("wait-all") {
		wt, err := b.waitAll()
		if err != nil {
			return err
		}
		report(fmt.Sprintf("wait --all, %d Ready AtlasMigrations", *waitN), wt.ours.wall, wt.theirs.wall, 0.5, "kubectl wait --all --for=condition=Ready")
	}
	if want("apply") {
		ap, err := b.apply()
		if err != nil {
			return err
		}
		report(fmt.Sprintf("apply, %d objects in 5 waves, hooks, health", *applyN), ap.ours.wall, ap.theirs.wall, 0.1, "kubectl apply --server-side -f")
	}
	return nil
}

func report(what string, ours, theirs time.Duration, limit float64, vs string) {
	line(what, ours.Round(time.Millisecond).String(), theirs.Round(time.Millisecond).String(), float64(ours)/float64(theirs), limit, vs)
}

func reportMem(what string, ours, theirs int64, limit float64, vs string) {
	mib := func(kib int64) string { return fmt.Sprintf("%.0fMiB", float64(kib)/1024) }
	line(what, mib(ours), mib(theirs), float64(ours)/float64(theirs), limit, vs)
}

func line(what, ours, theirs string, ratio, limit float64, vs string) {
	verdict := "ok"
	if ratio > limit {
		verdict = "MISSED"
		missed = true
	}
	fmt.Printf("| %s | %s | %s %s | %.2fx | <= %.1fx | %s |\n", what, ours, vs, theirs, ratio, limit, verdict)
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
	st := operator.Reconciling
	if ready {
		st = operator.Applied("1")
	}
	_, err := operator.Fake{Client: b.dyn}.Set(context.Background(), atlas.KindAtlasMigration, ns, name, st)
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

// createReady creates n AtlasMigrations spread over the namespaces and writes their status
// (every tenth one not Ready unless allReady), 32 requests at a time.
func (b *bench) createReady(namespaces []string, n int, allReady bool) error {
	for _, ns := range namespaces {
		if err := b.namespace(ns); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ns, name := namespaces[i%len(namespaces)], fmt.Sprintf("m%05d", i)
			if _, err := b.dyn.Resource(atlas.MigrationGVR).Namespace(ns).Create(context.Background(), migration(ns, name), metav1.CreateOptions{}); err != nil {
				errs <- err
				return
			}
			if err := b.setReady(ns, name, allReady || i%10 != 0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (b *bench) status() (pair, error) {
	var namespaces []string
	for i := 0; i < *statusNS; i++ {
		namespaces = append(namespaces, fmt.Sprintf("bench-status-%03d", i))
	}
	if err := b.createReady(namespaces, *statusN, false); err != nil {
		return pair{}, err
	}
	return b.compare(
		func(int) *exec.Cmd { return b.cmd(*pluginBin, "status", "-A", "-o", "json") },
		func(int) *exec.Cmd { return b.cmd(*kubectlBin, "get", "atlasmigrations", "-A", "-o", "json") })
}

func (b *bench) waitAll() (pair, error) {
	ns := "bench-wait-all"
	if err := b.createReady([]string{ns}, *waitN, true); err != nil {
		return pair{}, err
	}
	// kubectl waits for the objects one after the other (a list and a watch each): minutes for
	// 1,000, so one run each.
	return b.compareRuns(1,
		func(int) *exec.Cmd {
			return b.cmd(*pluginBin, "wait", "atlasmigration", "--all", "-n", ns, "--timeout", "15m")
		},
		func(int) *exec.Cmd {
			return b.cmd(*kubectlBin, "wait", "atlasmigrations", "--all", "-n", ns, "--for=condition=Ready", "--timeout", "15m")
		})
}

// applyDoc is one object of the apply folder: ConfigMaps, Secrets, ServiceAccounts and
// ClusterIP Services (healthy at once, the Services by Argo CD's built-in check), in waves 0-4;
// every 50th object is a hook (PreSync, PostSync, Helm pre-install/post-upgrade with a weight).
func applyDoc(i, wave int) string {
	ann := fmt.Sprintf("argocd.argoproj.io/sync-wave: \"%d\"", wave)
	switch i % 50 {
	case 10:
		ann = "argocd.argoproj.io/hook: PreSync"
	case 20:
		ann = `argocd.argoproj.io/hook: "PostSync,Skip"`
	case 30:
		ann = `helm.sh/hook: pre-install, helm.sh/hook-weight: "-1"`
	case 40:
		ann = "helm.sh/hook: post-upgrade"
	}
	meta := fmt.Sprintf("metadata:\n  name: o-%04d\n  annotations: {%s}\n", i, ann)
	switch i % 4 {
	case 0:
		return "---\napiVersion: v1\nkind: ConfigMap\n" + meta + fmt.Sprintf("data: {k: v%d}\n", i)
	case 1:
		return "---\napiVersion: v1\nkind: Secret\n" + meta + fmt.Sprintf("stringData: {k: v%d}\n", i)
	case 2:
		return "---\napiVersion: v1\nkind: ServiceAccount\n" + meta
	}
	return "---\napiVersion: v1\nkind: Service\n" + meta + "spec: {clusterIP: None, ports: [{port: 80}], selector: {app: a}}\n" // headless: the test control plane has 254 service IPs
}

// apply: the folder, one file per wave, each run into a fresh namespace so both tools create
// everything.
func (b *bench) apply() (pair, error) {
	dir, err := os.MkdirTemp("", "bench-apply-")
	if err != nil {
		return pair{}, err
	}
	defer os.RemoveAll(dir)
	perWave := *applyN / 5
	for wave := 0; wave < 5; wave++ {
		var docs string
		for i := wave * perWave; i < (wave+1)*perWave; i++ {
			docs += applyDoc(i, wave)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("wave%d.yaml", wave)), []byte(docs), 0o644); err != nil {
			return pair{}, err
		}
	}
	for i := 0; i < *runs; i++ {
		for _, p := range []string{"ours", "theirs"} {
			if err := b.namespace(fmt.Sprintf("bench-apply-%s-%d", p, i)); err != nil {
				return pair{}, err
			}
		}
	}
	return b.compare(
		func(i int) *exec.Cmd {
			return b.cmd(*pluginBin, "apply", "-n", fmt.Sprintf("bench-apply-ours-%d", i), "-f", dir, "--wait")
		},
		func(i int) *exec.Cmd {
			return b.cmd(*kubectlBin, "apply", "--server-side", "-n", fmt.Sprintf("bench-apply-theirs-%d", i), "-f", dir)
		})
}

// measured is the medians of one tool's runs: wall time and peak memory (max RSS, KiB).
type measured struct {
	wall   time.Duration
	maxRSS int64
}

type pair struct{ ours, theirs measured }

// compare runs both commands alternately, -runs times, and returns their median wall times and
// peak memory.
func (b *bench) compare(ours, theirs func(i int) *exec.Cmd) (pair, error) {
	return b.compareRuns(*runs, ours, theirs)
}

func (b *bench) compareRuns(n int, ours, theirs func(i int) *exec.Cmd) (pair, error) {
	var walls [2][]time.Duration
	var rss [2][]int64
	for i := 0; i < n; i++ {
		for j, mk := range []func(int) *exec.Cmd{ours, theirs} {
			c := mk(i)
			start := time.Now()
			var stderr bytes.Buffer
			c.Stderr = &stderr // kubectl wait prints a line per object; shown only on failure
			if err := c.Run(); err != nil {
				return pair{}, fmt.Errorf("%v: %w\n%s", c.Args, err, tail(stderr.String(), 2000))
			}
			walls[j] = append(walls[j], time.Since(start))
			if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss[j] = append(rss[j], ru.Maxrss) // KiB on Linux
			}
		}
	}
	m := func(j int) measured {
		return measured{wall: median(walls[j]), maxRSS: medianInt(rss[j])}
	}
	return pair{ours: m(0), theirs: m(1)}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func medianInt(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
