package plugin

import (
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// groupKinds are the kinds status and wait work on: every kind of db.atlasgo.io the cluster
// serves, found through discovery and read from kubectl's discovery cache, so a kind added by a
// newer operator (AtlasDriftCheck, AtlasSecurityScan) works without a new plugin release. A kind
// the user typed (typed) that the cache lacks refreshes it once, as kubectl does for a resource
// type it does not know. When discovery fails or the group is not served, the two known kinds
// stand in: listing them then says what is wrong (CRDs not installed, RBAC, unreachable).
type groupKinds struct {
	all []atlas.Kind
}

func discoverKinds(c *cluster.Client, typed []string) (groupKinds, error) {
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
	g := groupKinds{all: kinds}
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
