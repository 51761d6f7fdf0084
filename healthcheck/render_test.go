package healthcheck

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	for _, format := range []string{"", FormatArgoCDConfigMap, FormatLegacy, FormatHelm, FormatKustomize} {
		t.Run(format, func(t *testing.T) {
			a, err := Render(GenerateOptions{Format: format})
			require.NoError(t, err)
			b, err := Render(GenerateOptions{Format: format})
			require.NoError(t, err)
			assert.Equal(t, a, b)
			ov, err := ParseArgoCDConfigMap(a)
			require.NoError(t, err)
			for _, k := range Kinds {
				s, _ := Script(k)
				assert.Equal(t, Override{HealthLua: s, UseOpenLibs: true}, ov["db.atlasgo.io/"+k])
			}
			closed, err := Render(GenerateOptions{Format: format, NoOpenLibs: true})
			require.NoError(t, err)
			ov, err = ParseArgoCDConfigMap(closed)
			require.NoError(t, err)
			for _, k := range Kinds {
				s, _ := Script(k)
				assert.Equal(t, Override{HealthLua: s}, ov["db.atlasgo.io/"+k])
			}
			assert.NotContains(t, string(closed), "useOpenLibs:")
			one, err := Render(GenerateOptions{Format: format, Kind: "AtlasSchema"})
			require.NoError(t, err)
			assert.NotContains(t, string(one), "AtlasMigration")
		})
	}
	kust, _ := Render(GenerateOptions{Format: FormatKustomize})
	assert.NotContains(t, string(kust), "labels:", "a patch carries only what it changes")
	cm, _ := Render(GenerateOptions{})
	assert.Contains(t, string(cm), "resource.customizations.health.db.atlasgo.io_AtlasMigration: |\n    -- Health of")
	assert.Contains(t, string(cm), "\n  resource.customizations.useOpenLibs.db.atlasgo.io_AtlasMigration: \"true\"\n")
	assert.Contains(t, string(cm), "\n  resource.customizations.useOpenLibs.db.atlasgo.io_AtlasSchema: \"true\"\n")

	_, err := Render(GenerateOptions{Format: FormatLua})
	assert.ErrorContains(t, err, "--kind")
	_, err = Render(GenerateOptions{Format: "json"})
	assert.ErrorContains(t, err, "unknown format")
	_, err = Render(GenerateOptions{Kind: "atlasdriftcheck"})
	assert.ErrorContains(t, err, "unknown kind")
}

// --wildcard: the generic script under db.atlasgo.io/* in the nested key (ConfigMap keys cannot
// hold a '*'), beside the split keys, in every format; --kind picks one kind, generic or not.
func TestRenderWildcard(t *testing.T) {
	generic, err := Script(GenericKind)
	require.NoError(t, err)
	for _, format := range []string{FormatArgoCDConfigMap, FormatLegacy, FormatHelm, FormatKustomize} {
		t.Run(format, func(t *testing.T) {
			b, err := Render(GenerateOptions{Format: format, Wildcard: true})
			require.NoError(t, err)
			ov, err := ParseArgoCDConfigMap(b)
			require.NoError(t, err)
			assert.Equal(t, Override{HealthLua: generic, UseOpenLibs: true}, ov[GenericKey])
			for _, k := range Kinds {
				s, _ := Script(k)
				assert.Equal(t, Override{HealthLua: s, UseOpenLibs: true}, ov["db.atlasgo.io/"+k])
			}
			assert.NotContains(t, string(b), "_*", "no '*' in a ConfigMap key")
			e, err := NewEvaluator(ov)
			require.NoError(t, err)
			res, ok, err := e.Evaluate(object(t, "apiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasDriftCheck\nmetadata: {name: x}"))
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, Result{Progressing, "Waiting for Atlas Operator"}, res)
		})
	}
	one, err := Render(GenerateOptions{Kind: "AtlasDriftCheck"})
	require.NoError(t, err)
	ov, err := ParseArgoCDConfigMap(one)
	require.NoError(t, err)
	assert.Equal(t, map[string]Override{"db.atlasgo.io/AtlasDriftCheck": {HealthLua: generic, UseOpenLibs: true}}, ov)
	star, err := Render(GenerateOptions{Kind: GenericKind, NoOpenLibs: true})
	require.NoError(t, err)
	ov, err = ParseArgoCDConfigMap(star)
	require.NoError(t, err)
	assert.Equal(t, map[string]Override{GenericKey: {HealthLua: generic}}, ov)
	lua, err := Render(GenerateOptions{Format: FormatLua, Kind: "AtlasSecurityScan"})
	require.NoError(t, err)
	assert.Equal(t, generic, string(lua))
}

// The scripts use nothing Argo CD's default VM lacks.
func TestScriptsUseOnlyBaseAndTable(t *testing.T) {
	for _, k := range append(Kinds, GenericKind) {
		s, err := Script(k)
		require.NoError(t, err)
		for _, line := range strings.Split(s, "\n") {
			code := strings.TrimSpace(line)
			if strings.HasPrefix(code, "--") || strings.Contains(code, `type(string)`) {
				continue
			}
			for _, lib := range []string{"string.", "math.", "os.", "io.", ":lower", ":sub", ":find", ":match", ":format", ":gsub"} {
				assert.NotContains(t, code, lib, "%s: %s", k, line)
			}
		}
	}
}
