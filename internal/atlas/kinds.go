package atlas

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kinds are the operator's two kinds this project knows by heart, in the order status lists
// them. A cluster may serve more (AtlasDriftCheck, AtlasSecurityScan in operator v0.8):
// cluster.Client.GroupKinds finds them through discovery.
var Kinds = []Kind{
	{Kind: KindAtlasMigration, GVR: MigrationGVR, Singular: "atlasmigration"},
	{Kind: KindAtlasSchema, GVR: SchemaGVR, Singular: "atlasschema"},
}

// Kind pairs a kind with its resource and the other names kubectl accepts for it.
type Kind struct {
	Kind       string
	GVR        schema.GroupVersionResource
	Singular   string
	ShortNames []string
}

// ParseKind accepts what a kubectl user would type for one of the two known kinds:
// atlasmigration, atlasmigrations, AtlasMigration, atlasmigrations.db.atlasgo.io
// (case-insensitive). Verbs that talk to a cluster use Lookup on the kinds it serves.
func ParseKind(s string) (Kind, error) {
	if k, ok := Lookup(Kinds, s); ok {
		return k, nil
	}
	return Kind{}, fmt.Errorf("unknown kind %q: use atlasmigration or atlasschema", s)
}

// Lookup finds what a kubectl user typed among kinds: the kind, its plural resource, singular or
// a short name, case-insensitive, optionally qualified as RESOURCE.db.atlasgo.io or
// RESOURCE.VERSION.db.atlasgo.io.
func Lookup(kinds []Kind, s string) (Kind, bool) {
	typed := strings.ToLower(s)
	for _, k := range kinds {
		name := typed
		if g := "." + k.GVR.Version + "." + Group; strings.HasSuffix(name, g) {
			name = strings.TrimSuffix(name, g)
		} else if g := "." + Group; strings.HasSuffix(name, g) {
			name = strings.TrimSuffix(name, g)
		}
		if name == strings.ToLower(k.Kind) || name == k.GVR.Resource || name == k.Singular || slices.Contains(k.ShortNames, name) {
			return k, true
		}
	}
	return Kind{}, false
}

// Names lists the kinds as a user types them (lower case), for messages.
func Names(kinds []Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = strings.ToLower(k.Kind)
	}
	return strings.Join(names, ", ")
}

// SortKinds orders kinds as status lists them: the two known kinds first, then by name.
func SortKinds(kinds []Kind) {
	rank := func(k Kind) int {
		for i, known := range Kinds {
			if known.Kind == k.Kind {
				return i
			}
		}
		return len(Kinds)
	}
	slices.SortStableFunc(kinds, func(a, b Kind) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Kind, b.Kind)
	})
}

// ValidKindName reports whether s can be a Kind of the group: an UpperCamelCase name of ASCII
// letters and digits (what CRDs register; argocd-cm keys and health scripts are case-sensitive).
func ValidKindName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
