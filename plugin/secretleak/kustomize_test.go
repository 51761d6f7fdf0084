package secretleak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

func generator(dir, url string) string {
	return fmt.Sprintf(`apiVersion: kubectl-atlas.io/v1alpha1
kind: AtlasMigrationGenerator
metadata:
  name: app
spec:
  dir: %s
  url: %q
`, dir, url)
}

// Kustomize: build errors of apply -k (a remote base whose URL carries a token, a broken
// secretGenerator), and the kustomize function's errors, warnings and output.
func TestKustomize(t *testing.T) {
	shapes := corpus("kust")
	ns := newNamespace(t, "kust")
	ctx := context.Background()
	for _, sh := range urlShapes(shapes) {
		t.Run(sh.name, func(t *testing.T) {
			dir := t.TempDir()
			// a remote base: kustomize fetches it over HTTP, fails and quotes the URL
			remote := write(t, dir, "remote/kustomization.yaml", fmt.Sprintf("namespace: %s\nresources:\n- %s\n", ns,
				strings.Replace(sh.text, "@", "@127.0.0.1:1/", 1)))
			// a secretGenerator with the secret as a literal and an env file, plus a broken patch
			gen := write(t, dir, "gen/kustomization.yaml", fmt.Sprintf(`namespace: %s
secretGenerator:
- name: db
  literals: ["url=%s"]
  envs: [db.env]
patches:
- path: missing-patch.yaml
`, ns, sh.text))
			write(t, dir, "gen/db.env", "DB_PASSWORD="+sh.secret+"\n")
			// a kustomization using the generator with an inline URL and a missing directory
			fn := write(t, dir, "fn/generator.yaml", generator("nope", sh.text))
			write(t, dir, "fn/kustomization.yaml", "generators: [generator.yaml]\n")
			for _, args := range [][]string{
				{"apply", "-k", filepath.Dir(remote)},
				{"apply", "-k", filepath.Dir(gen)},
				{"apply", "-k", filepath.Dir(fn)},
			} {
				r := run(ctx, args...)
				ran(t, r, exitcode.Failure)
				noLeak(t, r, shapes, nil)
			}
			// the function itself, standalone: a config error, and a good config whose
			// ResourceList (kustomize's input) carries the inline URL the user wrote
			t.Chdir(filepath.Dir(fn)) // the function resolves spec.dir against the working directory
			r := run(ctx, "kustomize-fn", fn)
			ran(t, r, exitcode.Failure)
			noLeak(t, r, shapes, nil)
			migs := filepath.Join(filepath.Dir(fn), "migrations")
			require.NoError(t, os.MkdirAll(migs, 0o755))
			write(t, migs, "1_init.sql", "CREATE TABLE t (id int);\n")
			good := write(t, filepath.Dir(fn), "good.yaml", generator("migrations", sh.text))
			r = run(ctx, "kustomize-fn", good)
			ran(t, r, exitcode.Failure) // no atlas.sum
			noLeak(t, r, shapes, nil)
			ld, err := migrate.NewLocalDir(migs)
			require.NoError(t, err)
			sum, err := ld.Checksum()
			require.NoError(t, err)
			require.NoError(t, migrate.WriteSumFile(ld, sum))
			r = run(ctx, "kustomize-fn", good)
			ran(t, r, exitcode.OK)
			require.Contains(t, r.stdout, sh.text, "the ResourceList carries the user's inline URL")
			noLeak(t, r, shapes, func(line string) bool { return strings.HasPrefix(strings.TrimSpace(line), "url: ") })
		})
	}
}
