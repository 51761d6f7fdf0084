package healthcheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The kustomize output patches an installed argocd-cm: it adds the two keys and keeps the rest.
func TestKustomizePatchWithKrusty(t *testing.T) {
	dir := t.TempDir()
	patch, err := Render(GenerateOptions{Format: FormatKustomize, Wildcard: true})
	require.NoError(t, err)
	files := map[string]string{
		"install.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  url: https://argocd.example.com
`,
		"atlas-health.yaml":  string(patch),
		"kustomization.yaml": "namespace: argocd\nresources: [install.yaml]\npatches:\n- path: atlas-health.yaml\n",
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	out, err := rm.AsYaml()
	require.NoError(t, err)
	ov, err := ParseArgoCDConfigMap(out)
	require.NoError(t, err)
	want := DefaultOverrides()
	for k, o := range want {
		o.UseOpenLibs = true // generated for Argo CD: the scripts may redact there
		want[k] = o
	}
	assert.Equal(t, want, ov)
	assert.Contains(t, string(out), "url: https://argocd.example.com")
	assert.Contains(t, string(out), "app.kubernetes.io/part-of: argocd")
}
