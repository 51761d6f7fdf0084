package scaffold

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
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

// TestBlockScalars: every multi-line text is a block scalar, in the fast ConfigMap path and in
// the generic path (AtlasSchema inline .hcl/.sql, schema ConfigMaps), and parses back exactly.
func TestBlockScalars(t *testing.T) {
	values := map[string]string{
		"a.sql":  "  indented first line\nSELECT 1;\n",
		"b.sql":  "\n\nblank lines first\n",
		"c.sql":  "trailing spaces   \nSELECT 1;  \n",
		"d.sql":  "\tTab first\n",
		"e.sql":  "keep\n\n\n",
		"f.sql":  "strip\nno newline",
		"g.hcl":  "table \"t\" {\n  schema = schema.public\n}\n",
		"h.sql":  " \n  \n",
		"i.sql":  "x\n   \ny\n",
		"j.sql":  "# not a comment\n- not a list\n--- not a document\n",
		"k.sql":  "  \nafter whitespace-only line\n",
		"l.sql":  "ünïcödé ✓\n  nested\n",
		"m.sql":  "-- leading comment\n  indented\n\n",
		"schema": "CREATE TABLE t (\n  id int\n);   \n",
	}
	data := map[string]any{}
	for k, v := range values {
		data[k] = v
	}
	schema := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasSchema",
		"metadata": map[string]any{"name": "s"},
		"spec": map[string]any{"schema": map[string]any{"hcl": values["g.hcl"], "sql": values["c.sql"]},
			"list": []any{values["a.sql"], map[string]any{"x": values["b.sql"]}}},
	}}
	withBinary := configMap(data)
	withBinary.Object["immutable"] = true // not a plain ConfigMap: the generic path
	for _, u := range []*unstructured.Unstructured{configMap(data), withBinary, schema} {
		out, err := YAML(u)
		require.NoError(t, err)
		assert.NotContains(t, string(out), `\n`, "no escaped line:\n%s", out)
		var back map[string]any
		require.NoError(t, yaml.Unmarshal(out, &back), string(out))
		want, err := json.Marshal(u.Object)
		require.NoError(t, err)
		got, err := json.Marshal(back)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got), string(out))
	}
}

func FuzzBlockYAML(f *testing.F) {
	for _, s := range []string{"SELECT 1;\n", " a\n", "\n\nb", "c  \n", "\td\n", "e\n\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) || strings.IndexFunc(value, func(r rune) bool { return !migdir.Printable(r) }) >= 0 {
			return // not an input: the directory reader lets only YAML-printable UTF-8 through
		}
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasSchema",
			"spec": map[string]any{"schema": map[string]any{"sql": value}, "l": []any{value}}}}
		for _, obj := range []*unstructured.Unstructured{u, configMap(map[string]any{"1_a.sql": value})} {
			out, err := YAML(obj)
			if err != nil {
				t.Fatalf("a UTF-8 value must render: %v", err)
			}
			var back map[string]any
			if err := yaml.Unmarshal(out, &back); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			want, _ := json.Marshal(obj.Object)
			got, _ := json.Marshal(back)
			if string(want) != string(got) {
				t.Fatalf("round trip changed the value:\n%s\nwant %s\ngot  %s", out, want, got)
			}
			if strings.Contains(value, "\n") && literalSafe(value) && strings.Contains(string(out), `\n`) {
				t.Fatalf("multi-line text escaped:\n%s", out)
			}
		}
	})
}
