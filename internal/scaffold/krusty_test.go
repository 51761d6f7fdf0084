package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

func writeFolder(t *testing.T, dir string, files []File) {
	t.Helper()
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Data
	}
	writeFiles(t, dir, m)
}

func kustomize(t *testing.T, dir string) resmap.ResMap {
	t.Helper()
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	return rm
}

func find(t *testing.T, rm resmap.ResMap, kind, name string) map[string]any {
	t.Helper()
	for _, r := range rm.Resources() {
		if r.GetKind() == kind && r.GetName() == name {
			m, err := r.Map()
			require.NoError(t, err)
			return m
		}
	}
	var have []string
	for _, r := range rm.Resources() {
		have = append(have, r.GetKind()+"/"+r.GetName())
	}
	t.Fatalf("%s/%s not in the build output (have %v)", kind, name, have)
	return nil
}

// TestKrustyBuild builds every case's folder with kustomize's own engine: the output holds
// exactly the objects Build returned, unchanged.
func TestKrustyBuild(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, files := buildCase(t, c)
			dir := t.TempDir()
			writeFolder(t, dir, files)
			rm := kustomize(t, dir)
			require.Equal(t, len(res.Objects), rm.Size())
			for _, o := range res.Objects {
				got := find(t, rm, o.GetKind(), o.GetName())
				if o.GetAnnotations()[NeedsHashAnnotation] == "" {
					assert.Equal(t, roundTrip(t, o.Object), roundTrip(t, got), o.File)
				}
			}
		})
	}
}

func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := yaml.Marshal(m)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, yaml.Unmarshal(b, &out))
	return out
}

// TestKrustyNameReference proves the configurations file: an overlay with a name prefix and a
// Secret generator renames ConfigMaps and Secrets, and the Atlas resources follow.
func TestKrustyNameReference(t *testing.T) {
	root := t.TempDir()
	for _, c := range []scaffoldCase{cases[1], cases[9]} { // versioned with DB; schema in a ConfigMap
		_, files := buildCase(t, c)
		writeFolder(t, filepath.Join(root, c.name), files)
	}
	overlay := filepath.Join(root, "overlay")
	writeFiles(t, overlay, map[string][]byte{"kustomization.yaml": []byte(`namePrefix: prod-
resources:
- ../` + cases[1].name + `
- ../` + cases[9].name + `
secretGenerator:
- name: dev-db
  namespace: shop
  literals: [url=docker://mysql/8/dev]
patches:
- target: {kind: AtlasMigration}
  patch: |
    - op: add
      path: /spec/devURLFrom
      value: {secretKeyRef: {name: dev-db, key: url}}
`)})
	rm := kustomize(t, overlay)
	am := find(t, rm, "AtlasMigration", "prod-shop")
	spec := am["spec"].(map[string]any)
	assert.Equal(t, "prod-shop-migrations", spec["dir"].(map[string]any)["configMapRef"].(map[string]any)["name"])
	assert.Equal(t, "prod-shop-db", spec["urlFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"])
	dev := spec["devURLFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"].(string)
	assert.True(t, strings.HasPrefix(dev, "prod-dev-db-") && len(dev) > len("prod-dev-db-"), "hashed generator name followed: %s", dev)
	as := find(t, rm, "AtlasSchema", "prod-cm")
	ref := as["spec"].(map[string]any)["schema"].(map[string]any)["configMapKeyRef"].(map[string]any)["name"].(string)
	assert.Regexp(t, `^prod-cm-schema-[0-9a-f]{10}$`, ref, "the content-hashed schema ConfigMap, prefixed")
	find(t, rm, "ConfigMap", ref)
	app := find(t, rm, "Deployment", "prod-shop-app")
	env := app["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)[0]
	assert.Equal(t, "prod-shop-db", env.(map[string]any)["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"])
}

// TestKrustyHashedConfigMap: when kustomize hashes the migrations ConfigMap (a
// configMapGenerator here; the KRM generator's needs-hash output gets the same treatment), the
// AtlasMigration follows the hashed name through the nameReference file.
func TestKrustyHashedConfigMap(t *testing.T) {
	res, files := buildCase(t, cases[0])
	dir := t.TempDir()
	var kept []File
	for _, f := range files {
		switch f.Path {
		case "migrations-configmap.yaml", KustomizationFile:
		default:
			kept = append(kept, f)
		}
	}
	writeFolder(t, dir, kept)
	var gen strings.Builder
	gen.WriteString("resources:\n- atlasmigration.yaml\nconfigurations:\n- kustomizeconfig.yaml\nconfigMapGenerator:\n- name: myapp-migrations\n  files:\n")
	for name, content := range res.Objects[0].Object["data"].(map[string]any) {
		writeFiles(t, filepath.Join(dir, "migrations"), map[string][]byte{name: []byte(content.(string))})
		gen.WriteString("  - migrations/" + name + "\n")
	}
	writeFiles(t, dir, map[string][]byte{KustomizationFile: []byte(gen.String())})
	rm := kustomize(t, dir)
	var cmName string
	for _, r := range rm.Resources() {
		if r.GetKind() == "ConfigMap" {
			cmName = r.GetName()
		}
	}
	require.True(t, strings.HasPrefix(cmName, "myapp-migrations-") && cmName != "myapp-migrations-", "hashed name, got %q", cmName)
	am := find(t, rm, "AtlasMigration", "myapp")
	assert.Equal(t, cmName, am["spec"].(map[string]any)["dir"].(map[string]any)["configMapRef"].(map[string]any)["name"])
}

// TestKrustyArgoCDComponent includes argocd/ as a Component in an Argo CD installation
// kustomization: argocd-cm gets the health checks.
func TestKrustyArgoCDComponent(t *testing.T) {
	root := t.TempDir()
	_, files := buildCase(t, cases[2])
	writeFolder(t, filepath.Join(root, "atlas"), files)
	install := filepath.Join(root, "argocd-install")
	writeFiles(t, install, map[string][]byte{
		"argocd-cm.yaml":     []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: https://argocd.example.com\n"),
		"kustomization.yaml": []byte("namespace: argocd\nresources:\n- argocd-cm.yaml\ncomponents:\n- ../atlas/argocd\n"),
	})
	rm := kustomize(t, install)
	cm := find(t, rm, "ConfigMap", "argocd-cm")
	data := cm["data"].(map[string]any)
	assert.Equal(t, "https://argocd.example.com", data["url"])
	assert.Contains(t, data, "resource.customizations.health.db.atlasgo.io_AtlasMigration")

	// The Application file is a plain manifest for kubectl apply.
	b, err := os.ReadFile(filepath.Join(root, "atlas", "argocd", "application.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "kind: Application")
}
