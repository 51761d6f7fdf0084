package kustomize

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzGenerate feeds arbitrary generator configs (user YAML) to Generate: it must return objects
// or an error, never panic, and never read outside the kustomization directory.
func FuzzGenerate(f *testing.F) {
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "schema.sql"), []byte("CREATE TABLE t (id int);\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"apiVersion: kubectl-atlas.io/v1alpha1\nkind: AtlasSchemaGenerator\nmetadata: {name: a}\nspec: {schema: schema.sql, configMap: true}\n",
		"apiVersion: kubectl-atlas.io/v1alpha1\nkind: AtlasMigrationGenerator\nmetadata: {name: a}\nspec: {dir: migrations}\n",
		"apiVersion: kubectl-atlas.io/v1alpha1\nkind: AtlasSchemaGenerator\nmetadata: {name: a}\nspec: {schema: ../../etc/passwd}\n",
		"apiVersion: kubectl-atlas.io/v1alpha1\nkind: AtlasSchemaGenerator\nmetadata: {name: a}\nspec: {schema: schema.sql, wave: -3, urlFrom: {secretKeyRef: {name: x}}}\n",
		"kind: [",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		objs, err := Generate(config, dir, io.Discard)
		if err == nil && len(objs) == 0 {
			t.Fatalf("no error and no objects for %q", config)
		}
	})
}
