package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

type watchInterface = watch.Interface

// EventType says what happened to an object or to the stream of one Selector.
type EventType int

const (
	// Upsert: the object was added or changed (also sent after a relist found it changed).
	Upsert EventType = iota
	// Delete: the object is gone; Obj is its last known state.
	Delete
	// Synced: the first complete list of the selector was delivered (objects that do not exist
	// yet are known not to exist from here on).
	Synced
	// Trouble: the API server cannot be reached or the watch broke; the engine keeps retrying.
	Trouble
	// Recovered: the stream works again after Trouble.
	Recovered
	// Fatal: retrying cannot help (RBAC denial, CRD missing, unreachable before the first list).
	// The selector's stream ends.
	Fatal
)

// Event is one change of one selector's view of the cluster.
type Event struct {
	Type EventType
	// Source is the index of the Selector in the slice given to Follow.
	Source int
	Obj    *unstructured.Unstructured
	Err    error
}

// DefaultWatchTimeout is how long one watch request lasts before the engine renews it from the
// last resourceVersion (the server would end it anyway after --min-request-timeout).
const DefaultWatchTimeout = 5 * time.Minute

// Follow lists and watches every selector until ctx ends and sends what changes on the returned
// channel, which is closed once every selector's stream has ended.
//
// Each selector is an independent list+watch loop: it watches from the resourceVersion of its
// last list or event (bookmarks keep that fresh), renews the watch when it expires, relists when
// the server answers 410 "too old resource version" (after an API server restart the watch cache
// starts anew), and backs off while the server is unreachable. A relist is compared with what
// was seen so only real changes, and deletions missed while disconnected, are sent.
//
// Why not client-go's tools/watch (checked in v0.34.1): RetryWatcher never retries a 410 ("Never
// retry RV too old errors": it sends the error and stops), so it does not survive compaction or
// an API server restart on its own. UntilWithSync and NewIndexerInformerWatcher run an informer
// whose reflector retries every list and watch error forever and only logs it
// (DefaultWatchErrorHandler; UntilWithSync builds the informer itself, so no handler can be set):
// an RBAC denial or a missing CRD would hang until --timeout instead of failing at once, and the
// verbs could not say "the API server is unreachable" while it retries. An informer per
// selector would keep one watch per namespace, but it would also keep every object in memory,
// which the paged status avoids.
func (c *Client) Follow(ctx context.Context, sels []Selector) <-chan Event {
	out := make(chan Event, 64)
	done := make(chan struct{}, len(sels))
	for i, sel := range sels {
		go func() {
			c.follow(ctx, i, sel, out)
			done <- struct{}{}
		}()
	}
	go func() {
		for range sels {
			<-done
		}
		close(out)
	}()
	return out
}

type follower struct {
	c        *Client
	ctx      context.Context
	source   int
	sel      Selector
	out      chan<- Event
	known    map[string]*unstructured.Unstructured
	rv       string
	synced   bool
	troubled bool
	backoff  time.Duration
}

func (c *Client) follow(ctx context.Context, i int, sel Selector, out chan<- Event) {
	f := &follower{c: c, ctx: ctx, source: i, sel: sel, out: out, known: map[string]*unstructured.Unstructured{}}
	for ctx.Err() == nil {
		if f.rv == "" {
			if !f.relist() {
				return
			}
			if f.rv == "" {
				continue
			}
		}
		if !f.watch() {
			return
		}
	}
}

func (f *follower) send(ev Event) bool {
	ev.Source = f.source
	select {
	case f.out <- ev:
		return true
	case <-f.ctx.Done():
		return false
	}
}

func (f *follower) trouble(err error) bool {
	if !f.troubled {
		f.troubled = true
		if !f.send(Event{Type: Trouble, Err: err}) {
			return false
		}
	}
	if f.backoff == 0 {
		f.backoff = 100 * time.Millisecond
	} else if f.backoff < 2*time.Second {
		f.backoff *= 2
	}
	select {
	case <-time.After(f.backoff):
		return true
	case <-f.ctx.Done():
		return false
	}
}

func (f *follower) healthy() bool {
	f.backoff = 0
	if f.troubled {
		f.troubled = false
		return f.send(Event{Type: Recovered})
	}
	return true
}

// relist reads the full state and sends the differences; false ends the stream.
func (f *follower) relist() bool {
	items, rv, err := f.c.List(f.ctx, f.sel)
	if err != nil {
		if f.ctx.Err() != nil {
			return false
		}
		if IsFatal(err) || !f.synced {
			f.send(Event{Type: Fatal, Err: Explain(err, "list", f.sel.GVR, f.sel.Namespace)})
			return false
		}
		return f.trouble(err)
	}
	if !f.healthy() {
		return false
	}
	seen := make(map[string]bool, len(items))
	for i := range items {
		obj := &items[i]
		key := obj.GetNamespace() + "/" + obj.GetName()
		seen[key] = true
		if old, ok := f.known[key]; ok && old.GetResourceVersion() == obj.GetResourceVersion() {
			continue
		}
		f.known[key] = obj
		if !f.send(Event{Type: Upsert, Obj: obj}) {
			return false
		}
	}
	for key, obj := range f.known {
		if !seen[key] {
			delete(f.known, key)
			if !f.send(Event{Type: Delete, Obj: obj}) {
				return false
			}
		}
	}
	f.rv = rv
	if !f.synced {
		f.synced = true
		return f.send(Event{Type: Synced})
	}
	return true
}

// watch follows one watch request until it ends; false ends the stream.
func (f *follower) watch() bool {
	opts := f.sel.listOptions()
	opts.ResourceVersion = f.rv
	opts.AllowWatchBookmarks = true
	timeout := f.c.watchTimeoutSeconds
	if timeout == 0 {
		timeout = int64(DefaultWatchTimeout / time.Second)
	}
	opts.TimeoutSeconds = &timeout
	w, err := f.c.Dynamic.Resource(f.sel.GVR).Namespace(f.sel.Namespace).Watch(f.ctx, opts)
	if err != nil {
		switch {
		case f.ctx.Err() != nil:
			return false
		case isGone(err):
			f.rv = ""
			return true
		case IsFatal(err):
			f.send(Event{Type: Fatal, Err: Explain(err, "watch", f.sel.GVR, f.sel.Namespace)})
			return false
		}
		return f.trouble(err)
	}
	if f.c.wrapWatch != nil {
		w = f.c.wrapWatch(w)
	}
	defer w.Stop()
	if !f.healthy() {
		return false
	}
	for {
		select {
		case <-f.ctx.Done():
			return false
		case ev, ok := <-w.ResultChan():
			if !ok {
				// Expired or the connection dropped: renew from the last resourceVersion.
				return true
			}
			switch ev.Type {
			case watch.Error:
				err := apierrors.FromObject(ev.Object)
				if isGone(err) {
					f.rv = ""
					return true
				}
				return f.trouble(fmt.Errorf("watch of %s: %w", Resource(f.sel.GVR), Redacted(err)))
			case watch.Bookmark:
				if obj, ok := ev.Object.(*unstructured.Unstructured); ok {
					f.rv = obj.GetResourceVersion()
				}
			case watch.Added, watch.Modified, watch.Deleted:
				obj, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				f.rv = obj.GetResourceVersion()
				key := obj.GetNamespace() + "/" + obj.GetName()
				typ := Upsert
				if ev.Type == watch.Deleted {
					typ = Delete
					delete(f.known, key)
				} else {
					f.known[key] = obj
				}
				if !f.send(Event{Type: typ, Obj: obj}) {
					return false
				}
			}
		}
	}
}

// isGone is 410: the resourceVersion is older than what the server keeps; relist.
func isGone(err error) bool {
	var st apierrors.APIStatus
	return errors.As(err, &st) && st.Status().Code == 410 || apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}
