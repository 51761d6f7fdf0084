package scaffold

import (
	"bytes"
	"encoding/json"
	"testing"

	dbv1alpha1 "github.com/ariga/atlas-operator/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// The Atlas objects scaffold writes are what the operator's own API types (v1alpha1) hold:
// each decodes into them with no unknown field, and the typed object, written back the way
// scaffold writes objects, is the same object. operator_types.go mirrors those types so the
// binary need not link them; this is the check that the mirror stays true.
func TestAtlasObjectsAreOperatorTypes(t *testing.T) {
	all := append([]scaffoldCase{}, cases...)
	all = append(all,
		scaffoldCase{name: "baseline and dev URL Secret", opts: func(t *testing.T) Options {
			return Options{Name: "b", Dir: readDir(t, "atlas"), Baseline: "20240101000000", URLSecret: &SecretRef{Name: "db", Key: "url"}, DevURLSecret: &SecretRef{Name: "dev", Key: "url"}}
		}},
		scaffoldCase{name: "remote without token", opts: func(t *testing.T) Options {
			return Options{Name: "r", RemoteDir: &RemoteDir{Name: "app"}, URL: "postgres://u:p@db/app"}
		}},
		scaffoldCase{name: "schema with dev URL Secret and token", opts: func(t *testing.T) Options {
			return Options{Name: "s", Schema: &SchemaFile{FileName: "schema.sql", Data: []byte("CREATE TABLE t (id int);\n")}, DevURLSecret: &SecretRef{Name: "dev", Key: "url"}, TokenSecret: &SecretRef{Name: "tok", Key: "token"}}
		}},
	)
	seen := map[string]int{}
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			res, err := Build(c.opts(t))
			require.NoError(t, err)
			for _, o := range res.Objects {
				u := o.Unstructured
				var typed runtime.Object
				switch u.GetKind() {
				case atlas.KindAtlasMigration:
					typed = &dbv1alpha1.AtlasMigration{}
				case atlas.KindAtlasSchema:
					typed = &dbv1alpha1.AtlasSchema{}
				default:
					continue
				}
				seen[u.GetKind()]++
				b, err := json.Marshal(u.Object)
				require.NoError(t, err)
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(typed), "%s is not a %T: %s", u.GetName(), typed, b)
				back, err := toUnstructured(typed)
				require.NoError(t, err)
				assert.Equal(t, back.Object, u.Object)
			}
		})
	}
	assert.Positive(t, seen[atlas.KindAtlasMigration])
	assert.Positive(t, seen[atlas.KindAtlasSchema])
}
