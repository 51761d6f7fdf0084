package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// A kind a newer operator adds to the group is found through discovery; the cache keeps the
// kinds it saw until a fresh read, as kubectl's does.
func TestGroupKinds(t *testing.T) {
	c, _ := newNamespace(t)
	kinds, err := c.GroupKinds(atlas.Group, false)
	require.NoError(t, err)
	require.Len(t, kinds, 2)
	assert.Equal(t, atlas.Kinds, kinds, "the operator's CRDs: the two known kinds, in status order")

	none, err := c.GroupKinds("nothing.example.com", false)
	require.NoError(t, err)
	assert.Nil(t, none)

	dir, err := controlplane.NewerKindsCRDDir()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "db.atlasgo.io_atlasdriftchecks.yaml"))
	require.NoError(t, err)
	crd := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(b, &crd.Object))
	crds := dynamic.NewForConfigOrDie(env.Config).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	_, err = crds.Create(context.Background(), crd, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })

	cached, err := c.GroupKinds(atlas.Group, false)
	require.NoError(t, err)
	assert.Len(t, cached, 2, "read from the cache")

	// The API server serves a new CRD once it is established: a hang guard, not a measurement.
	guard := time.Now().Add(2 * time.Minute)
	for len(kinds) < 3 && time.Now().Before(guard) {
		kinds, err = c.GroupKinds(atlas.Group, true)
		require.NoError(t, err)
		if len(kinds) < 3 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	require.Len(t, kinds, 3)
	assert.Equal(t, atlas.Kinds, kinds[:2])
	assert.Equal(t, atlas.Kind{Kind: "AtlasDriftCheck", GVR: schema.GroupVersionResource{Group: atlas.Group, Version: "v1alpha1", Resource: "atlasdriftchecks"}, Singular: "atlasdriftcheck"}, kinds[2])
	k, ok := atlas.Lookup(kinds, "atlasdriftchecks.db.atlasgo.io")
	assert.True(t, ok)
	assert.Equal(t, "AtlasDriftCheck", k.Kind)
}
