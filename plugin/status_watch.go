package plugin

import (
	"context"
	"fmt"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

// statusWatch is one `status --watch`: it prints everything once every selector has listed,
// then each change (a table row, or a List of the one changed record).
type statusWatch struct {
	o       *StatusOptions
	cols    []column
	tw      *tabwriter.Writer
	objs    map[string]*unstructured.Unstructured // by namespace/kind/name
	last    map[string]string                     // what was printed last, by the same key
	sources int
	synced  int
}

// watch follows the selection until Ctrl-C (ctx cancelled).
func (o *StatusOptions) watch(ctx context.Context) error {
	sels := o.selectors()
	w := &statusWatch{o: o, cols: o.columns(), tw: newTable(o.Out), objs: map[string]*unstructured.Unstructured{}, last: map[string]string{}, sources: len(sels)}
	events := o.client.Follow(ctx, sels)
	for {
		select {
		case <-ctx.Done():
			// Ctrl-C (plugin.Main cancels the context): --watch's normal end.
			return exitcode.Newf(exitcode.Interrupted, "interrupted")
		case ev, ok := <-events:
			if !ok {
				return exitcode.Newf(exitcode.Interrupted, "interrupted")
			}
			if err := w.handle(ev); err != nil {
				return err
			}
		}
	}
}

func (w *statusWatch) handle(ev cluster.Event) error {
	switch ev.Type {
	case cluster.Fatal:
		return exitcode.New(exitcode.Failure, ev.Err)
	case cluster.Trouble:
		fmt.Fprintf(w.o.ErrOut, "the API server is unreachable, retrying: %s\n", redact.String(ev.Err.Error()))
	case cluster.Recovered:
		fmt.Fprintln(w.o.ErrOut, "the API server is reachable again")
	case cluster.Synced:
		w.synced++
		if w.synced == w.sources {
			return w.initial()
		}
	case cluster.Upsert, cluster.Delete:
		return w.change(ev)
	}
	return nil
}

// initial prints what the first lists found.
func (w *statusWatch) initial() error {
	list := make([]unstructured.Unstructured, 0, len(w.objs))
	for _, obj := range w.objs {
		list = append(list, *obj)
	}
	recs := w.o.judge(list)
	status.Sort(recs)
	if len(recs) == 0 {
		fmt.Fprintf(w.o.ErrOut, "No Atlas resources (%s) found yet; watching.\n", atlas.Names(w.o.kinds.all))
	}
	for i := range recs {
		w.last[recs[i].Key()] = w.o.printer.identity(w.cols, &recs[i])
	}
	return w.o.printer.list(w.o.Out, w.cols, recs)
}

// change records an event and, once everything has listed, prints it if what shows changed.
func (w *statusWatch) change(ev cluster.Event) error {
	key := ev.Obj.GetNamespace() + "/" + ev.Obj.GetKind() + "/" + ev.Obj.GetName()
	if ev.Type == cluster.Delete {
		delete(w.objs, key)
	} else {
		w.objs[key] = ev.Obj
	}
	if w.synced < w.sources {
		return nil
	}
	r := w.o.record(ev.Obj)
	r.Status.Deleted = ev.Type == cluster.Delete
	id := w.o.printer.identity(w.cols, &r)
	if id == w.last[key] {
		return nil
	}
	w.last[key] = id
	if !w.o.printer.table() {
		return w.o.printer.objects(w.o.Out, []status.Record{r})
	}
	fmt.Fprintln(w.tw, row(w.cols, &r))
	return w.tw.Flush()
}
