package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/progress"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Dry-run modes.
const (
	DryRunNone   = ""
	DryRunServer = "server"
	DryRunClient = "client"
)

// Options tune Run.
type Options struct {
	DryRun string
	// Wait gates the last group too (Argo CD does not).
	Wait bool
	// Once checks each gate's health once instead of waiting for it (--timeout 0): a group not
	// healthy at once ends the apply with context.DeadlineExceeded.
	Once bool
	// Force takes over fields owned by other field managers.
	Force bool
	// Out gets the result lines (one per group and object, the summary).
	Out io.Writer
	// Progress gets waiting chatter (stderr, on a terminal).
	Progress *progress.Progress
	// Concurrency is how many objects of a group are applied at once (Namespaces and CRDs are
	// applied first, one by one).
	Concurrency int
}

// FailedError is an object found Failed by its health (Degraded, or deleted while waited for),
// named as the manifest names it: the apply stops there, as an Argo CD sync does. The verdict
// is the wait's (cluster.Check); this adds where the object came from.
type FailedError struct {
	ID, Source string
	Check      cluster.Check
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%s (%s) is %s: %s", e.ID, e.Source, e.Check.Status, redact.String(e.Check.Message))
}

// Degraded tells a Degraded object (exit code Degraded) from one deleted while waited for.
func (e *FailedError) Degraded() bool { return e.Check.Cause == cluster.CauseDegraded }

// GroupError is a failed (phase, wave) group: Err is the cause (a *FailedError, an API
// error, a context error when time ran out), Note says what stays applied.
type GroupError struct {
	Group string
	Err   error
	Note  string
}

func (e *GroupError) Error() string { return e.Group + " failed: " + e.Err.Error() + e.Note }
func (e *GroupError) Unwrap() error { return e.Err }

// Summary is what Run did.
type Summary struct {
	Applied int
	Groups  int
	Waited  int // objects whose health was waited for
	Took    time.Duration
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// mapping is where an object is served.
type mapping struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

// Plan resolves every object's resource, defaults namespaces and orders everything. All
// unknown kinds are reported at once, before anything is applied.
func Plan(c *cluster.Client, objs []*Object, mapper meta.RESTMapper) (groups []*Group, syncFail []*Task, leftOut []LeftOut, maps map[*Object]mapping, err error) {
	// Objects left out of the sync are not looked up: a deletion hook may name a kind that
	// only exists when the Application is deleted.
	tasks, leftOut := Tasks(objs)
	inSync := map[*Object]bool{}
	for _, t := range tasks {
		inSync[t.Object] = true
	}
	// Kinds defined by CRDs in the same apply are known without asking the cluster.
	local := map[schema.GroupKind]mapping{}
	for _, o := range objs {
		if !isCRD(o.Obj.GroupVersionKind().Group, o.Obj.GetKind()) {
			continue
		}
		group, _, _ := unstructuredString(o.Obj.Object, "spec", "group")
		kind, _, _ := unstructuredString(o.Obj.Object, "spec", "names", "kind")
		plural, _, _ := unstructuredString(o.Obj.Object, "spec", "names", "plural")
		scope, _, _ := unstructuredString(o.Obj.Object, "spec", "scope")
		local[schema.GroupKind{Group: group, Kind: kind}] = mapping{gvr: schema.GroupVersionResource{Group: group, Resource: plural}, namespaced: scope != "Cluster"}
	}
	maps = map[*Object]mapping{}
	seen := map[string]string{}
	var problems []string
	for _, o := range objs {
		if !inSync[o] {
			continue
		}
		gvk := o.Obj.GroupVersionKind()
		m, ok := local[gvk.GroupKind()]
		if ok {
			m.gvr.Version = gvk.Version
		} else {
			rm, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				if meta.IsNoMatchError(err) {
					hint := "install its CRD first, or check apiVersion and kind"
					if gvk.Group == atlas.Group {
						hint = "the Atlas Operator CRDs (" + atlas.Group + ") are not installed in this cluster: install the operator first"
					}
					problems = append(problems, fmt.Sprintf("%s: %s: the cluster does not know kind %s in %s (%s)", o.Source, o.ID(), gvk.Kind, gvk.GroupVersion(), hint))
					continue
				}
				return nil, nil, nil, nil, fmt.Errorf("looking up kind %s: %w", gvk.Kind, cluster.Redacted(err))
			}
			m = mapping{gvr: rm.Resource, namespaced: rm.Scope.Name() == meta.RESTScopeNameNamespace}
		}
		if m.namespaced {
			switch ns := o.Obj.GetNamespace(); {
			case ns == "":
				o.Obj.SetNamespace(c.Namespace)
			case c.ExplicitNamespace && ns != c.Namespace:
				problems = append(problems, fmt.Sprintf("%s: %s: its namespace %q does not match -n %s", o.Source, o.ID(), ns, c.Namespace))
			}
		} else {
			o.Obj.SetNamespace("")
		}
		key := m.gvr.GroupResource().String() + "/" + o.Obj.GetNamespace() + "/" + o.Obj.GetName()
		if prev, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is also defined at %s", o.Source, o.ID(), prev))
		}
		seen[key] = o.Source
		maps[o] = m
	}
	if len(problems) > 0 {
		return nil, nil, nil, nil, fmt.Errorf("nothing was applied:\n  %s", strings.Join(problems, "\n  "))
	}
	Sort(tasks)
	groups, syncFail = Groups(tasks)
	return groups, syncFail, leftOut, maps, nil
}

// Run applies the groups in order, gating each on health (the last one only with Wait).
func Run(ctx context.Context, c *cluster.Client, objs []*Object, mapper meta.RESTMapper, opts Options) (Summary, error) {
	start := time.Now()
	groups, syncFail, leftOut, maps, err := Plan(c, objs, mapper)
	if err != nil {
		return Summary{}, err
	}
	r := &runner{c: c, opts: opts, maps: maps}
	if r.opts.Concurrency <= 0 {
		r.opts.Concurrency = 8
	}
	for _, o := range leftOut {
		fmt.Fprintf(opts.Out, "%s left out (%s)\n", o.ID(), o.Reason)
	}
	var sum Summary
	for gi, g := range groups {
		fmt.Fprintf(opts.Out, "%s: %d object(s)\n", g.Name(), len(g.Tasks))
		pending, err := r.applyGroup(ctx, g)
		sum.Applied += r.applied
		r.applied = 0
		if err == nil && opts.DryRun == DryRunNone && (gi < len(groups)-1 || opts.Wait) && len(pending) > 0 {
			sum.Waited += len(pending)
			err = r.gate(ctx, g, pending)
		}
		if err != nil {
			sum.Groups = gi + 1
			sum.Took = time.Since(start)
			gerr := &GroupError{Group: g.Name(), Err: err}
			msg := ""
			if gi > 0 {
				var names []string
				for _, pg := range groups[:gi] {
					names = append(names, pg.Name())
				}
				msg += fmt.Sprintf("\nObjects of %s stay applied.", strings.Join(names, ", "))
			}
			if gi < len(groups)-1 {
				msg += fmt.Sprintf(" Nothing of the later %d group(s) was applied.", len(groups)-1-gi)
			}
			if len(syncFail) > 0 && opts.DryRun == DryRunNone {
				fmt.Fprintf(opts.Out, "SyncFail hooks: %d object(s)\n", len(syncFail))
				if _, ferr := r.applyGroup(context.WithoutCancel(ctx), &Group{Phase: PhaseSyncFail, Tasks: syncFail}); ferr != nil {
					msg += "\nThe SyncFail hooks failed too: " + ferr.Error()
				}
			}
			gerr.Note = msg
			return sum, gerr
		}
	}
	sum.Groups = len(groups)
	sum.Took = time.Since(start)
	return sum, nil
}

type runner struct {
	c       *cluster.Client
	opts    Options
	maps    map[*Object]mapping
	applied int
}

// result of applying one task.
type result struct {
	obj *unstructured.Unstructured
	err error
}

// applyGroup applies every task: Namespaces, then CRDs (waiting until they are established),
// then ConfigMaps and Secrets, then the rest, each stage concurrently. Lines are printed in the group's order. It returns the objects
// whose health is not settled yet; a Degraded one is an error.
func (r *runner) applyGroup(ctx context.Context, g *Group) ([]*Task, error) {
	results := make([]result, len(g.Tasks))
	stage := func(pick func(t *Task) bool, concurrency int) {
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for i, t := range g.Tasks {
			if !pick(t) || results[i].obj != nil || results[i].err != nil {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				results[i] = r.applyOne(ctx, t)
			}()
		}
		wg.Wait()
	}
	isNS := func(t *Task) bool { return t.Obj.GetKind() == "Namespace" && t.Obj.GroupVersionKind().Group == "" }
	isCRDTask := func(t *Task) bool { return isCRD(t.Obj.GroupVersionKind().Group, t.Obj.GetKind()) }
	stage(isNS, 1)
	stage(isCRDTask, 1)
	for i, t := range g.Tasks {
		if isCRDTask(t) && results[i].err == nil && r.opts.DryRun == DryRunNone {
			results[i].err = r.waitEstablished(ctx, t.Obj.GetName())
		}
	}
	// ConfigMaps and Secrets before the rest: an operator that sees a custom resource before
	// the ConfigMap it names fails it ("not found"), as the real Atlas Operator does.
	isConfig := func(t *Task) bool {
		return t.Obj.GroupVersionKind().Group == "" && (t.Obj.GetKind() == "ConfigMap" || t.Obj.GetKind() == "Secret")
	}
	stage(isConfig, r.opts.Concurrency)
	stage(func(*Task) bool { return true }, r.opts.Concurrency)

	var pending []*Task
	var firstErr error
	suffix := map[string]string{DryRunNone: "serverside-applied", DryRunServer: "serverside-applied (server dry run)", DryRunClient: "(dry run)"}[r.opts.DryRun]
	for i, t := range g.Tasks {
		res := results[i]
		if res.err != nil {
			fmt.Fprintf(r.opts.Out, "  %s failed\n", t.ID())
			if firstErr == nil {
				firstErr = res.err
			}
			continue
		}
		r.applied++
		fmt.Fprintf(r.opts.Out, "  %s %s\n", t.ID(), suffix)
		if r.opts.DryRun != DryRunNone {
			continue
		}
		h, hasCheck := healthcheck.Get(res.obj)
		switch c := cluster.Verdict(h); {
		case !hasCheck:
		case c.State == cluster.Done:
			fmt.Fprintf(r.opts.Out, "  %s healthy\n", t.ID())
		case c.State == cluster.Failed && firstErr == nil:
			firstErr = &FailedError{ID: t.ID(), Source: t.Source, Check: c}
		default:
			pending = append(pending, t)
		}
	}
	return pending, firstErr
}

// applyOne server-side applies one object and explains failures with file and object.
func (r *runner) applyOne(ctx context.Context, t *Task) result {
	if r.opts.DryRun == DryRunClient {
		return result{obj: t.Obj}
	}
	m := r.maps[t.Object]
	opts := metav1.ApplyOptions{FieldManager: atlas.FieldManager, Force: r.opts.Force}
	if r.opts.DryRun == DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	obj, err := r.c.Dynamic.Resource(m.gvr).Namespace(t.Obj.GetNamespace()).Apply(ctx, t.Obj.GetName(), t.Obj, opts)
	if err == nil {
		return result{obj: obj}
	}
	where := fmt.Sprintf("applying %s from %s", t.ID(), t.Source)
	if ns := t.Obj.GetNamespace(); ns != "" {
		where = fmt.Sprintf("applying %s in namespace %s from %s", t.ID(), ns, t.Source)
	}
	msg := cluster.Redacted(err)
	switch {
	case apierrors.IsConflict(err):
		err = fmt.Errorf("%s: %w\nAnother field manager owns these fields (kubectl, Helm, Argo CD, ...): make the manifest agree, or rerun with --force-conflicts to take them over", where, msg)
	case apierrors.IsForbidden(err):
		err = fmt.Errorf("%s: not allowed (RBAC): %w\nAsk for a Role granting get and patch on %s", where, msg, cluster.Resource(m.gvr))
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		err = fmt.Errorf("%s: rejected by the API server: %w", where, msg)
	case cluster.IsResourceMissing(err):
		err = fmt.Errorf("%s: the cluster does not serve %s (is its CRD installed?): %w", where, cluster.Resource(m.gvr), msg)
	default:
		err = fmt.Errorf("%s: %w", where, msg)
	}
	return result{err: err}
}

// waitEstablished waits until a CRD serves its kind, so objects of that kind can follow.
func (r *runner) waitEstablished(ctx context.Context, name string) error {
	_, err := r.c.Wait(ctx, cluster.WaitSpec{
		Objects: []cluster.Ref{{GVR: crdGVR, Kind: "CustomResourceDefinition", Name: name}},
		Judge: func(obj *unstructured.Unstructured, deleted bool) cluster.Check {
			if obj == nil {
				return cluster.Check{State: cluster.Pending, Status: "Missing"}
			}
			conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return cluster.Check{State: cluster.Done, Status: "Established"}
				}
			}
			return cluster.Check{State: cluster.Pending, Status: "Progressing", Message: "waiting for the CRD to be established"}
		},
	})
	if err != nil {
		return fmt.Errorf("waiting for CRD %s to be established: %w", name, err)
	}
	return nil
}

// gate waits until every pending object of the group is healthy; Degraded stops it.
func (r *runner) gate(ctx context.Context, g *Group, pending []*Task) error {
	byRef := map[cluster.Ref]*Task{}
	var refs []cluster.Ref
	for _, t := range pending {
		ref := cluster.Ref{GVR: r.maps[t.Object].gvr, Kind: t.Obj.GetKind(), Namespace: t.Obj.GetNamespace(), Name: t.Obj.GetName()}
		byRef[ref] = t
		refs = append(refs, ref)
	}
	r.opts.Progress.Line("", "Waiting", fmt.Sprintf("%s: %d object(s) to become healthy", g.Name(), len(refs)))
	outcomes, err := r.c.Wait(ctx, cluster.WaitSpec{
		Objects:      refs,
		Once:         r.opts.Once,
		Judge:        cluster.Judge,
		OnConnection: r.opts.Progress.Connection,
		OnChange: func(ref cluster.Ref, c cluster.Check) {
			t := byRef[ref]
			switch {
			case c.State == cluster.Done:
				fmt.Fprintf(r.opts.Out, "  %s healthy\n", t.ID())
			case c.Notice:
				r.opts.Progress.Notice(t.ID(), c.Status, c.Message)
			default:
				r.opts.Progress.Line(t.ID(), c.Status, c.Message)
			}
		},
	})
	var failed *cluster.FailedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failed):
		t := byRef[failed.Ref]
		return &FailedError{ID: t.ID(), Source: t.Source, Check: failed.Check}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		var waiting []string
		for _, oc := range outcomes {
			if oc.Check.State != cluster.Done {
				waiting = append(waiting, fmt.Sprintf("%s (%s)", byRef[oc.Ref].ID(), oc.Check.Status))
			}
		}
		return fmt.Errorf("still waiting for %s: %w", strings.Join(waiting, ", "), err)
	}
	return err
}
