package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

func TestListPaginates(t *testing.T) {
	c, ns := newNamespace(t)
	ctx := context.Background()
	n := PageSize + 20
	for i := 0; i < n; i++ {
		_, err := c.Dynamic.Resource(configMapGVR).Namespace(ns).Create(ctx, configMap(ns, fmt.Sprintf("cm-%04d", i), nil), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	items, rv, err := c.List(ctx, Selector{GVR: configMapGVR, Namespace: ns})
	require.NoError(t, err)
	assert.NotEmpty(t, rv)
	names := map[string]bool{}
	for _, it := range items {
		names[it.GetName()] = true
	}
	// kube-root-ca.crt is published into every namespace by the controller manager, which the
	// test control plane does not run.
	assert.Len(t, names, n)

	one, _, err := c.List(ctx, Selector{GVR: configMapGVR, Namespace: ns, Name: "cm-0007"})
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "cm-0007", one[0].GetName())
}

func TestExplain(t *testing.T) {
	c, ns := newNamespace(t)
	ctx := context.Background()

	_, _, err := c.List(ctx, Selector{GVR: schema.GroupVersionResource{Group: atlas.Group, Version: atlas.Version, Resource: "atlasnothings"}, Namespace: ns})
	require.Error(t, err)
	assert.True(t, IsResourceMissing(err), err)
	assert.ErrorIs(t, Explain(err, "list", atlas.MigrationGVR, ns), ErrCRDsMissing)

	other := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	_, _, err = c.List(ctx, Selector{GVR: other, Namespace: ns})
	assert.ErrorContains(t, Explain(err, "list", other, ns), "the cluster does not serve widgets.example.com")

	// One missing object is not a missing resource.
	_, err = c.Dynamic.Resource(atlas.MigrationGVR).Namespace(ns).Get(ctx, "nope", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err))
	assert.False(t, IsResourceMissing(err))

	kc, err := env.AddUser("explain-nobody", nil)
	require.NoError(t, err)
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	require.NoError(t, err)
	limited, err := NewForConfig(cfg, ns)
	require.NoError(t, err)
	_, _, err = limited.List(ctx, Selector{GVR: atlas.MigrationGVR, Namespace: ns})
	require.Error(t, err)
	assert.True(t, IsFatal(err))
	msg := Explain(err, "list", atlas.MigrationGVR, ns).Error()
	assert.Contains(t, msg, `not allowed to list atlasmigrations.db.atlasgo.io in namespace "`+ns+`" (RBAC)`)
	assert.Contains(t, msg, `User "explain-nobody"`)

	unreachable, err := NewForConfig(deadConfig(), ns)
	require.NoError(t, err)
	_, _, err = unreachable.List(ctx, Selector{GVR: atlas.MigrationGVR, Namespace: ns})
	require.Error(t, err)
	assert.Contains(t, Explain(err, "list", atlas.MigrationGVR, ns).Error(), "cannot reach the API server")
}

// hang guards waits for events that take well under a second on an idle machine: far above what
// a busy one needs, so it never measures anything.
const hang = 3 * time.Minute

// nextEvent returns the next event of the given types (the test fails if none comes).
func nextEvent(t *testing.T, events <-chan Event, types ...EventType) Event {
	t.Helper()
	timeout := time.After(hang)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "event stream closed")
			for _, typ := range types {
				if ev.Type == typ {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no event of types %v within %s", types, hang)
		}
	}
}

func TestFollowRenewsExpiredWatch(t *testing.T) {
	c, ns := newNamespace(t)
	c.watchTimeoutSeconds = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var watches atomic.Int32
	c.wrapWatch = func(w watch.Interface) watch.Interface { watches.Add(1); return w }

	events := c.Follow(ctx, []Selector{{GVR: configMapGVR, Namespace: ns, Name: "later"}})
	nextEvent(t, events, Synced)
	// at least two watch requests expire (an event, however long the machine takes)
	require.Eventually(t, func() bool { return watches.Load() >= 3 }, hang, 20*time.Millisecond)
	_, err := c.Dynamic.Resource(configMapGVR).Namespace(ns).Create(ctx, configMap(ns, "later", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	ev := nextEvent(t, events, Upsert)
	assert.Equal(t, "later", ev.Obj.GetName())
	assert.GreaterOrEqual(t, watches.Load(), int32(3))
}

// goneOnce answers the first watch with 410 "too old resource version", as a server does when
// the watch's resourceVersion was compacted away.
type goneOnce struct {
	watch.Interface
	ch chan watch.Event
}

func (g *goneOnce) ResultChan() <-chan watch.Event { return g.ch }

func TestFollowRelistsAfterTooOldResourceVersion(t *testing.T) {
	c, ns := newNamespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ri := c.Dynamic.Resource(configMapGVR).Namespace(ns)
	_, err := ri.Create(ctx, configMap(ns, "a", map[string]any{"v": "1"}), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = ri.Create(ctx, configMap(ns, "b", nil), metav1.CreateOptions{})
	require.NoError(t, err)

	var watches atomic.Int32
	changed := make(chan struct{})
	c.wrapWatch = func(w watch.Interface) watch.Interface {
		if watches.Add(1) != 1 {
			return w
		}
		// While this watch "is down", a is changed and b deleted: only a relist can tell.
		<-changed
		ch := make(chan watch.Event, 1)
		ch <- watch.Event{Type: watch.Error, Object: &metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"}}
		close(ch)
		return &goneOnce{Interface: w, ch: ch}
	}
	events := c.Follow(ctx, []Selector{{GVR: configMapGVR, Namespace: ns}})
	got := map[string]bool{}
	for len(got) < 2 {
		got[nextEvent(t, events, Upsert).Obj.GetName()] = true
	}
	nextEvent(t, events, Synced)
	_, err = ri.Update(ctx, configMap(ns, "a", map[string]any{"v": "2"}), metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, ri.Delete(ctx, "b", metav1.DeleteOptions{}))
	close(changed)

	seen := map[string]EventType{}
	for len(seen) < 2 {
		ev := nextEvent(t, events, Upsert, Delete)
		seen[ev.Obj.GetName()] = ev.Type
		if ev.Obj.GetName() == "a" {
			v, _, _ := unstructured.NestedString(ev.Obj.Object, "data", "v")
			assert.Equal(t, "2", v)
		}
	}
	assert.Equal(t, map[string]EventType{"a": Upsert, "b": Delete}, seen)
	// After the relist it watches again from the new resourceVersion.
	assert.Eventually(t, func() bool { return watches.Load() >= 2 }, hang, 20*time.Millisecond)
}

func TestFollowFatalOnForbidden(t *testing.T) {
	_, ns := newNamespace(t)
	kc, err := env.AddUser("follow-nobody", nil)
	require.NoError(t, err)
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	require.NoError(t, err)
	c, err := NewForConfig(cfg, ns)
	require.NoError(t, err)
	ev := nextEvent(t, c.Follow(context.Background(), []Selector{{GVR: atlas.MigrationGVR, Namespace: ns}}), Fatal)
	assert.Contains(t, ev.Err.Error(), "RBAC")
	assert.False(t, errors.Is(ev.Err, ErrCRDsMissing))
}
