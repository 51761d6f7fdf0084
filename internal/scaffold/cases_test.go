package scaffold

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// scaffoldCase is one flag combination of `init`; the krusty and server-side dry-run tests run
// every case, so every object init can produce is checked by kustomize and the API server.
type scaffoldCase struct {
	name   string
	opts   func(t *testing.T) Options
	argocd bool
}

func readDir(t *testing.T, format string) *migdir.Dir {
	t.Helper()
	d, err := migdir.Read("../migdir/testdata/"+format, migdir.Options{Format: format})
	require.NoError(t, err)
	return d
}

// bigDir is a migration directory past 256 KiB (server-side apply annotation).
func bigDir(t *testing.T) *migdir.Dir {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 40 {
		files[fmt.Sprintf("%03d_t%d.sql", i+1, i)] = []byte(fmt.Sprintf("CREATE TABLE t%d (id int);\n%s", i, strings.Repeat("-- filler line for size\n", 320)))
	}
	writeFiles(t, dir, files)
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	require.NoError(t, err)
	return d
}

var cases = []scaffoldCase{
	{name: "versioned", opts: func(t *testing.T) Options {
		return Options{Name: "myapp", Dir: readDir(t, "atlas")}
	}},
	{name: "versioned-mysql-app-namespace", opts: func(t *testing.T) Options {
		return Options{Name: "shop", Namespace: "shop", Dir: readDir(t, "atlas"), WithDB: DBMySQL, DBPassword: "s3cret", WithApp: "ghcr.io/acme/shop:1.0"}
	}},
	{name: "versioned-postgres-waves-devurl", opts: func(t *testing.T) Options {
		return Options{Name: "pg", Dir: readDir(t, "goose"), WithDB: DBPostgres, DBPassword: "pw", WithApp: "nginx:1.27",
			Waves: &Waves{DB: -1, Schema: 0, App: 5}, URLSecret: &SecretRef{Name: "pg-db", Key: "dsn"}, DevURLSecret: &SecretRef{Name: "dev-db", Key: "url"}}
	}, argocd: true},
	{name: "versioned-flyway-url-secret", opts: func(t *testing.T) Options {
		return Options{Name: "fly", Dir: readDir(t, "flyway"), URLSecret: &SecretRef{Name: "creds", Key: "url"}, DevURL: "docker://mysql/8/dev"}
	}},
	{name: "versioned-generator-hash", opts: func(t *testing.T) Options {
		return Options{Name: "gen", Dir: readDir(t, "dbmate"), ConfigMapNeedsHash: true, NoWaves: true}
	}},
	{name: "versioned-large", opts: func(t *testing.T) Options {
		return Options{Name: "big", Dir: bigDir(t)}
	}},
	{name: "remote-dir", opts: func(t *testing.T) Options {
		return Options{Name: "remote", RemoteDir: &RemoteDir{Name: "app", Tag: "v1"}, TokenSecret: &SecretRef{Name: "atlas-token", Key: "token"}, URL: "mysql://root:pass@db:3306/app"}
	}, argocd: true},
	{name: "schema-sql-inline", opts: func(t *testing.T) Options {
		return Options{Name: "decl", Schema: &SchemaFile{FileName: "schema.sql", Data: []byte("CREATE TABLE users (id int PRIMARY KEY);\n")}, DenyDestructive: true, WithDB: DBMySQL, DBPassword: "pw"}
	}},
	{name: "schema-hcl-inline", opts: func(t *testing.T) Options {
		return Options{Name: "hcl", Schema: &SchemaFile{FileName: "schema.hcl", Data: []byte("table \"users\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\nschema \"public\" {}\n")}}
	}},
	{name: "schema-configmap", opts: func(t *testing.T) Options {
		return Options{Name: "cm", Namespace: "shop", Schema: &SchemaFile{FileName: "schema.sql", Data: []byte("CREATE TABLE t (id int);\n")}, SchemaConfigMap: true, WithDB: DBPostgres, DBPassword: "pw", WithApp: "busybox"}
	}, argocd: true},
	{name: "schema-url", opts: func(t *testing.T) Options {
		return Options{Name: "cloud", SchemaURL: "atlas://app?tag=v1", TokenSecret: &SecretRef{Name: "atlas-token", Key: "token"}}
	}},
}

// healthPatch stands in for healthcheck.Render output in this package's tests (the plugin tests
// use the real one): an argocd-cm strategic-merge patch.
const healthPatch = `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
data:
  resource.customizations.health.db.atlasgo.io_AtlasMigration: |
    return {status = "Healthy"}
`

func buildCase(t *testing.T, c scaffoldCase) (*Result, []File) {
	t.Helper()
	opts := c.opts(t)
	res, err := Build(opts)
	require.NoError(t, err)
	fo := FolderOptions{Namespace: opts.Namespace, Objects: res.Objects}
	if c.argocd {
		app, err := ArgoCDApplication(ArgoCDOptions{Name: opts.Name, RepoURL: "https://github.com/acme/deploy.git", Path: "atlas", DestNamespace: opts.Namespace})
		require.NoError(t, err)
		fo.Application, fo.HealthPatch = app, []byte(healthPatch)
	}
	files, err := Folder(fo)
	require.NoError(t, err)
	return res, files
}
