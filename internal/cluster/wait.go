package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	// Sets are waited for as selections: every object they match must be Done, and at least one
	// must exist unless AllowEmpty.
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

	// Named objects of one resource and namespace share one list+watch of the namespace.
	type group struct {
		gvr schema.GroupVersionResource
		ns  string
	}
	names := map[group]map[string]bool{}
	var order []group
	for _, r := range spec.Objects {
		g := group{r.GVR, r.Namespace}
		if names[g] == nil {
			names[g] = map[string]bool{}
			order = append(order, g)
		}
		names[g][r.Name] = true
	}
	var sels []Selector
	var setOf []int // selector index -> index into spec.Sets, or -1 for named objects
	for _, g := range order {
		sel := Selector{GVR: g.gvr, Namespace: g.ns}
		if len(names[g]) == 1 {
			for n := range names[g] {
				sel.Name = n
			}
		}
		sels = append(sels, sel)
		setOf = append(setOf, -1)
	}
	for i, s := range spec.Sets {
		sels = append(sels, s)
		setOf = append(setOf, i)
	}

	checks := map[Ref]Check{}
	existed := map[Ref]bool{}
	present := map[Ref]bool{}
	members := make([]map[Ref]bool, len(spec.Sets)) // objects each set currently matches
	for i := range members {
		members[i] = map[Ref]bool{}
	}
	synced := make([]bool, len(sels))
	nsynced := 0

	judge := func(ref Ref, obj *unstructured.Unstructured) Check {
		ch := spec.Judge(obj, obj == nil && existed[ref])
		if old, ok := checks[ref]; !ok || old != ch {
			checks[ref] = ch
			if spec.OnChange != nil {
				spec.OnChange(ref, ch)
			}
		}
		return ch
	}
	outcomes := func() []Outcome {
		out := make([]Outcome, 0, len(checks))
		for r, ch := range checks {
			out = append(out, Outcome{r, ch})
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].Ref.String() < out[j].Ref.String() || out[i].Ref.String() == out[j].Ref.String() && out[i].Ref.Namespace < out[j].Ref.Namespace
		})
		return out
	}
	finished := func() (bool, error) {
		if nsynced < len(sels) {
			return false, nil
		}
		all := true
		for _, r := range spec.Objects {
			ch, ok := checks[r]
			if !ok {
				ch = judge(r, nil)
			}
			if ch.State == Failed {
				return true, &FailedError{r, ch}
			}
			all = all && ch.State == Done
		}
		for i := range spec.Sets {
			if len(members[i]) == 0 && !spec.AllowEmpty {
				all = false
			}
			for r := range members[i] {
				ch := checks[r]
				if ch.State == Failed {
					return true, &FailedError{r, ch}
				}
				all = all && ch.State == Done
			}
		}
		return all, nil
	}

	if ok, err := finished(); ok && len(sels) == 0 {
		return outcomes(), err
	}
	events := c.Follow(ctx, sels)
	for {
		var ev Event
		select {
		case <-ctx.Done():
			return outcomes(), ctx.Err()
		case e, ok := <-events:
			if !ok {
				return outcomes(), ctx.Err()
			}
			ev = e
		}
		set := setOf[ev.Source]
		switch ev.Type {
		case Fatal:
			return outcomes(), ev.Err
		case Trouble:
			if spec.OnConnection != nil {
				spec.OnConnection(Redacted(ev.Err))
			}
			continue
		case Recovered:
			if spec.OnConnection != nil {
				spec.OnConnection(nil)
			}
			continue
		case Synced:
			if !synced[ev.Source] {
				synced[ev.Source] = true
				nsynced++
			}
		case Upsert, Delete:
			ref := Ref{GVR: sels[ev.Source].GVR, Kind: ev.Obj.GetKind(), Namespace: ev.Obj.GetNamespace(), Name: ev.Obj.GetName()}
			if set < 0 && !names[group{ref.GVR, ref.Namespace}][ref.Name] {
				continue
			}
			obj := ev.Obj
			if ev.Type == Delete {
				obj = nil
				delete(present, ref)
				if set >= 0 {
					delete(members[set], ref)
					// A selection that shrinks is not a failure; forget the object.
					delete(checks, ref)
					break
				}
			} else {
				existed[ref] = true
				present[ref] = true
				if set >= 0 {
					members[set][ref] = true
				}
			}
			judge(ref, obj)
		}
		if ok, err := finished(); ok {
			return outcomes(), err
		}
		if spec.Once && nsynced == len(sels) {
			return outcomes(), context.DeadlineExceeded
		}
	}
}
