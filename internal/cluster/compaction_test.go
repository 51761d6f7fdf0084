package cluster

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// seen410 passes a watch through and counts the 410 "too old resource version" errors the
// server sends on it.
type seen410 struct {
	watch.Interface
	ch    chan watch.Event
	count *atomic.Int32
}

func watch410(w watch.Interface, count *atomic.Int32) watch.Interface {
	s := &seen410{Interface: w, ch: make(chan watch.Event), count: count}
	go func() {
		defer close(s.ch)
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error && isGone(apierrors.FromObject(ev.Object)) {
				count.Add(1)
			}
			s.ch <- ev
		}
	}()
	return s
}

func (s *seen410) ResultChan() <-chan watch.Event { return s.ch }

// TestWaitSurvivesRealCompaction: a control plane of its own compacts etcd every second and has
// no watch cache, so a watch renewed from the resourceVersion of the first list, after other
// writes moved etcd on, gets the API server's own 410. Wait relists and still sees the change
// it waits for.
func TestWaitSurvivesRealCompaction(t *testing.T) {
	cenv, err := controlplane.Start(controlplane.Options{WithoutCRDs: true, CompactEvery: time.Second})
	require.NoError(t, err)
	defer func() {
		if err := cenv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	c, err := NewForConfig(cenv.Config, "default")
	require.NoError(t, err)
	c.watchTimeoutSeconds = 1 // renew often, each time from the last resourceVersion seen
	var gone atomic.Int32
	c.wrapWatch = func(w watch.Interface) watch.Interface { return watch410(w, &gone) }

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard: compaction runs every second
	defer cancel()
	ri := c.Dynamic.Resource(configMapGVR).Namespace("default")
	_, err = ri.Create(ctx, configMap("default", "target", map[string]any{"v": "1"}), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = ri.Create(ctx, configMap("default", "churn", map[string]any{"n": "0"}), metav1.CreateOptions{})
	require.NoError(t, err)

	type result struct {
		out []Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.Wait(ctx, WaitSpec{
			Objects: []Ref{{GVR: configMapGVR, Kind: "ConfigMap", Namespace: "default", Name: "target"}},
			Judge: func(obj *unstructured.Unstructured, deleted bool) Check {
				if v, _, _ := unstructured.NestedString(obj.Object, "data", "v"); obj != nil && v == "2" {
					return Check{State: Done, Status: "Changed"}
				}
				return Check{State: Pending, Status: "Unchanged"}
			},
		})
		done <- result{out, err}
	}()

	// Other writes move etcd's revision on; the compactor then drops the revision the wait's
	// watch resumes from, and the next renewal is answered with 410.
	for i := 1; gone.Load() == 0; i++ {
		require.NoError(t, ctx.Err(), "no 410 from the API server")
		_, err := ri.Update(ctx, configMap("default", "churn", map[string]any{"n": fmt.Sprint(i)}), metav1.UpdateOptions{})
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("the wait ended on the 410: %v", r.err)
	default:
	}
	_, err = ri.Update(ctx, configMap("default", "target", map[string]any{"v": "2"}), metav1.UpdateOptions{})
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.out, 1)
	assert.Equal(t, Done, r.out[0].Check.State)
	assert.Positive(t, gone.Load())
}
