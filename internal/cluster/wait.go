package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
)

// State is where one object stands in a wait.
type State int

const (
	Pending State = iota // keep waiting
	Done                 // condition met
	Failed               // stop: the object is Degraded, or gone when it must not be
)

// Cause says why a Check is Failed. Callers decide on State, Cause and Notice; Status is a word
// for people only.
type Cause int

const (
	NoCause       Cause = iota
	CauseDegraded       // the health check says Degraded
	CauseDeleted        // deleted while waited for
)

// Check is the verdict on one object. Status and Message are shown in progress lines.
type Check struct {
	State State
	Cause Cause
	// Notice marks a state a pipeline log must show even off a terminal (a plan waiting for
	// approval: nothing else would tell why the wait takes long).
	Notice  bool
	Status  string
	Message string
	// Note is a short fact for the success line, e.g. the applied version.
	Note string
}

// Verdict turns a health verdict into a wait outcome, the same for every verb that waits
// (wait, apply): Healthy is done, Degraded fails at once, Suspended (a plan waiting for approval)
// keeps waiting and is noticed, anything else keeps waiting. The health word and message are
// carried for people.
func Verdict(h healthcheck.Result) Check {
	c := Check{Status: string(h.Status), Message: h.Message}
	switch h.Status {
	case healthcheck.Healthy:
		c.State = Done
	case healthcheck.Degraded:
		c.State, c.Cause = Failed, CauseDegraded
	case healthcheck.Suspended:
		c.Notice = true
	}
	return c
}

// Judge is the wait outcome of one object by its health, the same for every verb that waits
// for health (wait, apply): an object that does not exist is Missing and waited for, one deleted
// while waited for fails (CauseDeleted), one without a health check is Done (Argo CD does not
// wait for it either), and every other goes through Verdict(healthcheck.Get(obj)).
func Judge(obj *unstructured.Unstructured, deleted bool) Check {
	if obj == nil {
		if deleted {
			return Check{State: Failed, Cause: CauseDeleted, Status: "Deleted", Message: "deleted while waiting for it"}
		}
		return Check{State: Pending, Status: string(healthcheck.Missing), Message: "does not exist yet"}
	}
	h, hasCheck := healthcheck.Get(obj)
	if !hasCheck {
		return Check{State: Done, Status: string(healthcheck.Healthy)}
	}
	return Verdict(h)
}

// Ref names one object of a wait. Kind must be set (as the API spells it): it is part of the
// identity and of what is printed.
type Ref struct {
	GVR       schema.GroupVersionResource
	Kind      string
	Namespace string
	Name      string
}

// String is kubectl's short form, e.g. atlasmigration/myapp.
func (r Ref) String() string {
	return strings.ToLower(r.Kind) + "/" + r.Name
}

// WaitSpec says what to wait for.
type WaitSpec struct {
	// Objects are waited for by name; ones that do not exist yet are waited for too.
	Objects []Ref
	// Sets are waited for as one selection (one Selector per resource, e.g. every kind of a
	// group): every object they match must be Done, and at least one must exist in any of them
	// unless AllowEmpty.
	Sets       []Selector
	AllowEmpty bool
	// Once decides on the state found by the first list, without waiting for changes: if that
	// is not done, Wait returns context.DeadlineExceeded (kubectl wait --timeout=0).
	Once bool
	// Judge decides on one object. obj is nil when it does not exist; deleted is true when it
	// existed earlier in this wait and was deleted since.
	Judge func(obj *unstructured.Unstructured, deleted bool) Check
	// OnChange, if set, is called (from the waiting goroutine) whenever an object's Check changes.
	OnChange func(ref Ref, c Check)
	// OnConnection, if set, is called with the error (credentials redacted) when the API server
	// stops answering, and with nil when it answers again; the wait keeps retrying meanwhile.
	OnConnection func(err error)
}

// FailedError is a wait stopped by an object in State Failed.
type FailedError struct {
	Ref   Ref
	Check Check
}

func (e *FailedError) Error() string {
	if e.Check.Message == "" {
		return fmt.Sprintf("%s is %s", e.Ref, e.Check.Status)
	}
	return fmt.Sprintf("%s is %s: %s", e.Ref, e.Check.Status, e.Check.Message)
}

// Degraded tells a Degraded object from one that failed otherwise (deleted while waited for).
func (e *FailedError) Degraded() bool { return e.Check.Cause == CauseDegraded }

// Outcome is the last Check of every object when a wait ends, sorted by Ref.
type Outcome struct {
	Ref   Ref
	Check Check
}

// Wait blocks until every object is Done (nil error), one is Failed (*FailedError), the API
// refuses (RBAC, CRD missing: an explained error) or ctx ends (ctx's error). It returns the
// last verdicts either way. It is watch-based: see Follow.
func (c *Client) Wait(ctx context.Context, spec WaitSpec) ([]Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := newWaiter(spec)
	if len(w.sels) == 0 {
		_, err := w.finished()
		return w.outcomes(), err
	}
	events := c.Follow(ctx, w.sels)
	for {
		var ev Event
		select {
		case <-ctx.Done():
			return w.outcomes(), ctx.Err()
		case e, ok := <-events:
			if !ok {
				return w.outcomes(), ctx.Err()
			}
			ev = e
		}
		switch ev.Type {
		case Fatal:
			return w.outcomes(), ev.Err
		case Trouble, Recovered:
			w.connection(ev)
			continue
		}
		w.observe(ev)
		if ok, err := w.finished(); ok {
			return w.outcomes(), err
		}
		if spec.Once && w.nsynced == len(w.sels) {
			return w.outcomes(), context.DeadlineExceeded
		}
	}
}

// waiter is the state of one Wait: what each selector has delivered and the last verdicts.
type waiter struct {
	spec WaitSpec
	sels []Selector
	// setOf maps a selector to its index in spec.Sets, or -1 for a selector of named objects.
	setOf []int
	// named are the names waited for, per resource and namespace (one selector each).
	named   map[scope]map[string]bool
	checks  map[Ref]Check
	existed map[Ref]bool
	// members are the objects each of spec.Sets currently matches.
	members []map[Ref]bool
	synced  []bool
	nsynced int
}

type scope struct {
	gvr schema.GroupVersionResource
	ns  string
}

// newWaiter plans the selectors: named objects of one resource and namespace share one
// list+watch of the namespace (by name when there is only one), each set is its own.
func newWaiter(spec WaitSpec) *waiter {
	w := &waiter{spec: spec, named: map[scope]map[string]bool{}, checks: map[Ref]Check{}, existed: map[Ref]bool{}}
	var order []scope
	for _, r := range spec.Objects {
		g := scope{r.GVR, r.Namespace}
		if w.named[g] == nil {
			w.named[g] = map[string]bool{}
			order = append(order, g)
		}
		w.named[g][r.Name] = true
	}
	for _, g := range order {
		sel := Selector{GVR: g.gvr, Namespace: g.ns}
		if len(w.named[g]) == 1 {
			for n := range w.named[g] {
				sel.Name = n
			}
		}
		w.sels = append(w.sels, sel)
		w.setOf = append(w.setOf, -1)
	}
	for i, s := range spec.Sets {
		w.sels = append(w.sels, s)
		w.setOf = append(w.setOf, i)
		w.members = append(w.members, map[Ref]bool{})
	}
	w.synced = make([]bool, len(w.sels))
	return w
}

// judge asks spec.Judge about one object and reports a changed verdict.
func (w *waiter) judge(ref Ref, obj *unstructured.Unstructured) Check {
	ch := w.spec.Judge(obj, obj == nil && w.existed[ref])
	if old, ok := w.checks[ref]; !ok || old != ch {
		w.checks[ref] = ch
		if w.spec.OnChange != nil {
			w.spec.OnChange(ref, ch)
		}
	}
	return ch
}

func (w *waiter) connection(ev Event) {
	if w.spec.OnConnection == nil {
		return
	}
	if ev.Type == Trouble {
		w.spec.OnConnection(Redacted(ev.Err))
		return
	}
	w.spec.OnConnection(nil)
}

// observe takes in one Synced, Upsert or Delete event.
func (w *waiter) observe(ev Event) {
	if ev.Type == Synced {
		if !w.synced[ev.Source] {
			w.synced[ev.Source] = true
			w.nsynced++
		}
		return
	}
	set := w.setOf[ev.Source]
	ref := Ref{GVR: w.sels[ev.Source].GVR, Kind: ev.Obj.GetKind(), Namespace: ev.Obj.GetNamespace(), Name: ev.Obj.GetName()}
	switch {
	case set < 0 && !w.named[scope{ref.GVR, ref.Namespace}][ref.Name]:
		// another object of a watched namespace
	case ev.Type == Delete && set >= 0:
		// A selection that shrinks is not a failure; forget the object.
		delete(w.members[set], ref)
		delete(w.checks, ref)
	case ev.Type == Delete:
		w.judge(ref, nil)
	default:
		w.existed[ref] = true
		if set >= 0 {
			w.members[set][ref] = true
		}
		w.judge(ref, ev.Obj)
	}
}

// finished decides once every selector has listed: a Failed object ends the wait, and it is
// done when every named object and every member of each set is Done.
func (w *waiter) finished() (bool, error) {
	if w.nsynced < len(w.sels) {
		return false, nil
	}
	all := true
	for _, r := range w.spec.Objects {
		ch, ok := w.checks[r]
		if !ok {
			ch = w.judge(r, nil)
		}
		if ch.State == Failed {
			return true, &FailedError{r, ch}
		}
		all = all && ch.State == Done
	}
	matched := 0
	for i := range w.spec.Sets {
		matched += len(w.members[i])
		for r := range w.members[i] {
			ch := w.checks[r]
			if ch.State == Failed {
				return true, &FailedError{r, ch}
			}
			all = all && ch.State == Done
		}
	}
	if len(w.spec.Sets) > 0 && matched == 0 && !w.spec.AllowEmpty {
		all = false
	}
	return all, nil
}

// outcomes are the last verdicts, sorted by Ref.
func (w *waiter) outcomes() []Outcome {
	out := make([]Outcome, 0, len(w.checks))
	for r, ch := range w.checks {
		out = append(out, Outcome{r, ch})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Ref, out[j].Ref
		if a.String() != b.String() {
			return a.String() < b.String()
		}
		return a.Namespace < b.Namespace
	})
	return out
}
