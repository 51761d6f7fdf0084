package atlas

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kinds are the operator's two kinds, in the order status lists them.
var Kinds = []Kind{
	{Kind: KindAtlasMigration, GVR: MigrationGVR},
	{Kind: KindAtlasSchema, GVR: SchemaGVR},
}

// Kind pairs a kind with its resource.
type Kind struct {
	Kind string
	GVR  schema.GroupVersionResource
}

// ParseKind accepts what a kubectl user would type for an Atlas kind: atlasmigration,
// atlasmigrations, AtlasMigration, atlasmigrations.db.atlasgo.io (case-insensitive).
func ParseKind(s string) (Kind, error) {
	k := strings.ToLower(s)
	if g := "." + Group; strings.HasSuffix(k, g) {
		k = strings.TrimSuffix(k, g)
	} else if g := "." + Version + "." + Group; strings.HasSuffix(k, g) {
		k = strings.TrimSuffix(k, g)
	}
	for _, ak := range Kinds {
		l := strings.ToLower(ak.Kind)
		if k == l || k == ak.GVR.Resource {
			return ak, nil
		}
	}
	return Kind{}, fmt.Errorf("unknown kind %q: use atlasmigration or atlasschema", s)
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
