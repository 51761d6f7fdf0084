package scaffold

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func configMap(data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "m", "namespace": "ns", "annotations": map[string]any{"a": "b"}},
		"data":     data,
	}}
}

// TestFastYAMLMatchesGeneric: for migration directories the fast path prints exactly what
// sigs.k8s.io/yaml prints.
func TestFastYAMLMatchesGeneric(t *testing.T) {
	for _, format := range []string{"atlas", "goose", "flyway", "golang-migrate", "dbmate", "liquibase"} {
		cm, _, err := MigrationsConfigMap(ConfigMapOptions{Name: "m", Dir: readDir(t, format)})
		require.NoError(t, err)
		fast, ok, err := fastConfigMapYAML(cm)
		require.True(t, ok)
		require.NoError(t, err)
		generic, err := yaml.Marshal(cm.Object)
		require.NoError(t, err)
		assert.Equal(t, string(generic), string(fast), format)
	}
}

func TestFastYAMLRoundTrip(t *testing.T) {
	values := []string{
		"SELECT 1;\n", "SELECT 1;", "SELECT 1;\n\n\n", "a\n\n  b\n\tc\n", " leading space\n", "\nleading newline",
		"tab\tinside\n", "cr\r\nlf\n", "ctrl \x01\n", "nel \u0085 x\n", "ls \u2028\n", "bom \ufeff\n", "trailing space \n", "ünïcödé ✓\n", "'quoted' \"x\" # not a comment\n- not a list\n",
		"--- not a document\n... nor this\n", "",
	}
	data := map[string]any{}
	for i, v := range values {
		data[string(rune('a'+i))+"_x.sql"] = v
	}
	data["true"] = "yes"
	data["1.5"] = "number-like key"
	for _, u := range []*unstructured.Unstructured{configMap(data), configMap(map[string]any{})} {
		out, ok, err := fastConfigMapYAML(u)
		require.True(t, ok)
		require.NoError(t, err)
		var back map[string]any
		require.NoError(t, yaml.Unmarshal(out, &back), string(out))
		assert.Equal(t, u.Object, back)
	}
	_, ok, _ := fastConfigMapYAML(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "binaryData": map[string]any{}}})
	assert.False(t, ok, "binaryData takes the generic path")
}

func FuzzFastYAML(f *testing.F) {
	for _, s := range []string{"SELECT 1;\n", "a\n\n", " x", "\ty\n", "z\r\n", "\u0085"} {
		f.Add("1_a.sql", s)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		u := configMap(map[string]any{key: value})
		out, ok, err := fastConfigMapYAML(u)
		if !ok || err != nil {
			return
		}
		var back map[string]any
		if err := yaml.Unmarshal(out, &back); err != nil {
			generic, gerr := yaml.Marshal(u.Object)
			if gerr == nil && yaml.Unmarshal(generic, &back) == nil {
				t.Fatalf("fast output does not parse (%v) where the generic one does:\n%s", err, out)
			}
			return
		}
		data, _ := back["data"].(map[string]any)
		if data[key] != value {
			generic, _ := yaml.Marshal(u.Object)
			var gback map[string]any
			gerr := yaml.Unmarshal(generic, &gback)
			gdata, _ := gback["data"].(map[string]any)
			if gerr == nil && gdata != nil && gdata[key] == value {
				t.Fatalf("value changed: %q -> %q\n%s", value, data[key], out)
			}
		}
	})
}

func TestJSONSize(t *testing.T) {
	for _, data := range []map[string]any{
		nil, {}, {"a.sql": "SELECT '<x>' & \"q\"\\\n\t\r\b\f\x01 \u2028 é \xff"}, {"b": "x", "c": "y"},
	} {
		u := configMap(data)
		if data == nil {
			delete(u.Object, "data")
		}
		b, err := json.Marshal(u.Object)
		require.NoError(t, err)
		assert.Equal(t, len(b), jsonSize(u))
	}
	cm, _, err := MigrationsConfigMap(ConfigMapOptions{Name: "m", Dir: readDir(t, "atlas")})
	require.NoError(t, err)
	b, err := json.Marshal(cm.Object)
	require.NoError(t, err)
	assert.Equal(t, len(b), jsonSize(cm))
}
