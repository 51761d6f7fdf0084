package plugin

import (
	"context"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// groupKinds are the kinds status and wait work on: every kind of db.atlasgo.io the cluster
// serves, found through discovery and read from kubectl's discovery cache, so a kind added by a
// newer operator (AtlasDriftCheck, AtlasSecurityScan) works without a new plugin release. A kind
// the user typed (typed) that the cache lacks refreshes it once, as kubectl does for a resource
// type it does not know. When discovery fails or the group is not served, the two known kinds
// stand in: listing them then says what is wrong (CRDs not installed, RBAC, unreachable). A
// kind beyond those two that the user did not name and may not list in namespace ns ("" for
// all) is left out (a SelfSubjectAccessReview, as `kubectl auth can-i`): a Role written for the
// two kinds keeps working when a newer operator adds kinds.
type groupKinds struct {
	all []atlas.Kind
}

func discoverKinds(c *cluster.Client, typed []string, ns string) (groupKinds, error) {
	kinds, err := c.GroupKinds(atlas.Group, false)
	missing := func() bool {
		for _, t := range typed {
			if _, ok := atlas.Lookup(kinds, t); !ok {
				return true
			}
		}
		return false
	}
	if err == nil && missing() {
		kinds, err = c.GroupKinds(atlas.Group, true)
	}
	if err != nil || len(kinds) == 0 {
		kinds = atlas.Kinds
	}
	g := groupKinds{all: listable(c, kinds, typed, ns)}
	for _, t := range typed {
		if _, err := g.lookup(t); err != nil {
			return g, err
		}
	}
	return g, nil
}

// lookup resolves a kind the user typed (atlasdriftcheck, atlasmigrations, AtlasSchema, ...).
func (g groupKinds) lookup(typed string) (atlas.Kind, error) {
	if k, ok := atlas.Lookup(g.all, typed); ok {
		return k, nil
	}
	return atlas.Kind{}, exitcode.UsageErrorf("unknown kind %q: the cluster serves %s in %s", typed, atlas.Names(g.all), atlas.Group)
}

// listable drops the kinds beyond the two known ones that were not typed and that the user may
// not list in ns; when the API server cannot tell, the kind stays (listing it then says why).
func listable(c *cluster.Client, kinds []atlas.Kind, typed []string, ns string) []atlas.Kind {
	out := make([]atlas.Kind, 0, len(kinds))
	for _, k := range kinds {
		if _, known := atlas.Lookup(atlas.Kinds, k.Kind); known || named(k, typed) {
			out = append(out, k)
			continue
		}
		if ok, err := c.CanList(context.Background(), k.GVR, ns); err != nil || ok {
			out = append(out, k)
		}
	}
	return out
}

func named(k atlas.Kind, typed []string) bool {
	for _, t := range typed {
		if _, ok := atlas.Lookup([]atlas.Kind{k}, t); ok {
			return true
		}
	}
	return false
}
