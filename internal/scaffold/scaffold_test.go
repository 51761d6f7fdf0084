package scaffold

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
}

func TestValidate(t *testing.T) {
	schema := &SchemaFile{FileName: "schema.sql", Data: []byte("x")}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no name", Options{Schema: schema}, "a name is required"},
		{"bad name", Options{Name: "My_App", Schema: schema}, `name "My_App"`},
		{"long name", Options{Name: strings.Repeat("a", 60), Schema: schema}, "too long"},
		{"bad namespace", Options{Name: "a", Namespace: "Shop", Schema: schema}, `namespace "Shop"`},
		{"no source", Options{Name: "a"}, "exactly one source"},
		{"two sources", Options{Name: "a", Schema: schema, SchemaURL: "atlas://x"}, "exactly one source"},
		{"remote without name", Options{Name: "a", RemoteDir: &RemoteDir{}}, "needs a name"},
		{"schema url not atlas", Options{Name: "a", SchemaURL: "file://schema.sql"}, "only atlas:// URLs"},
		{"schema extension", Options{Name: "a", Schema: &SchemaFile{FileName: "schema.txt"}}, "must end in .sql or .hcl"},
		{"schema key", Options{Name: "a", Schema: &SchemaFile{FileName: "my schema.sql"}}, "not a valid ConfigMap key"},
		{"configmap without schema", Options{Name: "a", SchemaURL: "atlas://x", SchemaConfigMap: true}, "needs a schema file"},
		{"url twice", Options{Name: "a", Schema: schema, URL: "x", URLSecret: &SecretRef{Name: "s", Key: "k"}}, "either inline or as a Secret"},
		{"dev url twice", Options{Name: "a", Schema: schema, DevURL: "x", DevURLSecret: &SecretRef{Name: "s", Key: "k"}}, "dev database URL either"},
		{"db without password", Options{Name: "a", Schema: schema, WithDB: DBMySQL}, "needs a password"},
		{"db with url", Options{Name: "a", Schema: schema, WithDB: DBMySQL, DBPassword: "x", URL: "mysql://x"}, "drop the inline URL"},
		{"unknown db", Options{Name: "a", Schema: schema, WithDB: "oracle"}, "use mysql or postgres"},
		{"image with space", Options{Name: "a", Schema: schema, WithApp: "a b"}, "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Build(tt.opts)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseSecretRef(t *testing.T) {
	r, err := ParseSecretRef("db-creds", "url")
	require.NoError(t, err)
	assert.Equal(t, SecretRef{Name: "db-creds", Key: "url"}, r)
	r, err = ParseSecretRef("db-creds:dsn", "url")
	require.NoError(t, err)
	assert.Equal(t, SecretRef{Name: "db-creds", Key: "dsn"}, r)
	_, err = ParseSecretRef("Bad_Name", "url")
	assert.ErrorContains(t, err, `secret name "Bad_Name"`)
	_, err = ParseSecretRef("ok:bad key", "url")
	assert.ErrorContains(t, err, `secret key "bad key"`)
}

// TestBuild checks the objects of every case: order, waves, references and annotations.
func TestBuild(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts(t)
			res, _ := buildCase(t, c)
			waves := opts.waves()
			var atlasObj Object
			for _, o := range res.Objects {
				assert.Equal(t, opts.Name, o.GetLabels()[PartOfLabel])
				assert.Equal(t, opts.Namespace, o.GetNamespace())
				assert.NotContains(t, o.Object, "status")
				_, ok := o.GetAnnotations()[atlas.SyncWaveAnnotation]
				assert.Equal(t, !opts.NoWaves, ok, "sync wave on %s", o.File)
				if o.Role == RoleAtlas {
					atlasObj = o
				}
			}
			require.NotNil(t, atlasObj.Unstructured)
			assert.Equal(t, opts.Name, atlasObj.GetName())
			for _, o := range res.Objects {
				if opts.NoWaves {
					break
				}
				switch o.Role {
				case RoleConfigMap:
					assert.Equal(t, WaveOf(atlasObj.Unstructured), WaveOf(o.Unstructured), "a ConfigMap shares its reader's wave")
				case RoleDBDeployment, RoleDBService:
					assert.Equal(t, strconv.Itoa(waves.DB), WaveOf(o.Unstructured))
				case RoleApp:
					assert.Equal(t, strconv.Itoa(waves.App), WaveOf(o.Unstructured))
				case RoleDBSecret:
					assert.LessOrEqual(t, mustAtoi(t, WaveOf(o.Unstructured)), waves.Schema, "the URL Secret is never later than the Atlas resource")
				}
			}
			if opts.Dir != nil {
				assert.Equal(t, opts.Dir.LatestVersion(), atlasObj.GetAnnotations()[atlas.TargetVersionAnnotation])
			} else {
				assert.NotContains(t, atlasObj.GetAnnotations(), atlas.TargetVersionAnnotation)
			}
		})
	}
}

func TestVersionedObjects(t *testing.T) {
	res, err := Build(Options{Name: "myapp", Dir: readDir(t, "atlas"), WithDB: DBMySQL, DBPassword: "pw", WithApp: "nginx"})
	require.NoError(t, err)
	var roles []string
	for _, o := range res.Objects {
		roles = append(roles, o.Role+":"+o.GetKind()+"/"+o.GetName())
	}
	assert.Equal(t, []string{
		"db-secret:Secret/myapp-db", "db-service:Service/myapp-db", "db-deployment:Deployment/myapp-db",
		"configmap:ConfigMap/myapp-migrations", "atlas:AtlasMigration/myapp", "app:Deployment/myapp-app",
	}, roles)
	am := res.Objects[4]
	assert.Equal(t, map[string]any{
		"dir":     map[string]any{"configMapRef": map[string]any{"name": "myapp-migrations"}},
		"urlFrom": map[string]any{"secretKeyRef": map[string]any{"name": "myapp-db", "key": "url"}},
	}, am.Object["spec"], "only what was set: the typed struct's empty fields are pruned")
	assert.Equal(t, "20240103000000", am.GetAnnotations()[atlas.TargetVersionAnnotation])
	secret := res.Objects[0]
	assert.Equal(t, "mysql://root:pw@myapp-db.default:3306/app", secret.Object["stringData"].(map[string]any)["url"])
	assert.Contains(t, res.Notes[0].Message, `assumes namespace "default"`)
	cm := res.Objects[3]
	data := cm.Object["data"].(map[string]any)
	assert.Len(t, data, 4)
	assert.Contains(t, data, "atlas.sum")
}

func TestSchemaObjects(t *testing.T) {
	res, err := Build(Options{Name: "decl", Schema: &SchemaFile{FileName: "schema.hcl", Data: []byte("schema \"public\" {}\n")}, DenyDestructive: true, URLSecret: &SecretRef{Name: "creds", Key: "url"}})
	require.NoError(t, err)
	require.Len(t, res.Objects, 1)
	assert.Equal(t, map[string]any{
		"schema":  map[string]any{"hcl": "schema \"public\" {}\n"},
		"urlFrom": map[string]any{"secretKeyRef": map[string]any{"name": "creds", "key": "url"}},
		"policy":  map[string]any{"lint": map[string]any{"destructive": map[string]any{"error": true}}},
	}, res.Objects[0].Object["spec"])

	res, err = Build(Options{Name: "cm", Schema: &SchemaFile{FileName: "schema.sql", Data: []byte("CREATE TABLE t (id int);")}, SchemaConfigMap: true, ConfigMapNeedsHash: true})
	require.NoError(t, err)
	require.Len(t, res.Objects, 2)
	assert.Equal(t, "true", res.Objects[0].GetAnnotations()[NeedsHashAnnotation])
	assert.Equal(t, map[string]any{"configMapKeyRef": map[string]any{"name": "cm-schema", "key": "schema.sql"}}, res.Objects[1].Object["spec"].(map[string]any)["schema"])
}

func TestInlineURLWarning(t *testing.T) {
	res, err := Build(Options{Name: "a", SchemaURL: "atlas://x", URL: "postgres://u:p4ss@db/app"})
	require.NoError(t, err)
	assert.Len(t, res.Notes, 2)
	assert.Equal(t, NoteNeedsToken, res.Notes[0].Code)
	assert.Contains(t, res.Notes[0].Message, "needs an Atlas Cloud token")
	assert.Equal(t, NoteInlinePassword, res.Notes[1].Code)
	assert.Contains(t, res.Notes[1].Message, "holds a password")
	for _, n := range res.Notes {
		assert.NotContains(t, n.Message, "p4ss", "notes never print credentials")
		assert.NotContains(t, n.Message, "--", "a library note names no flag")
	}
	fixed := diag.Fixes{NoteInlinePassword: "use a Secret"}.Phrase(res.Notes[1])
	assert.Equal(t, "note: "+res.Notes[1].Message+": use a Secret", fixed)
}

func TestLargeConfigMap(t *testing.T) {
	d := bigDir(t)
	cm, notes, err := MigrationsConfigMap(ConfigMapOptions{Name: "big", Dir: d})
	require.NoError(t, err)
	assert.Equal(t, ServerSideApplyOption, cm.GetAnnotations()[atlas.SyncOptionsAnnotation])
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0].Message, "past 256 KiB")

	small, notes, err := MigrationsConfigMap(ConfigMapOptions{Name: "small", Dir: readDir(t, "atlas"), Namespace: "x"})
	require.NoError(t, err)
	assert.Empty(t, notes)
	assert.Empty(t, small.GetAnnotations())
	assert.Equal(t, "x", small.GetNamespace())
}

func TestTooLargeConfigMap(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 6 {
		files[fmt.Sprintf("%03d_t.sql", i+1)] = []byte(strings.Repeat("-- x\n", 45000))
	}
	writeFiles(t, dir, files)
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	require.NoError(t, err)
	_, _, err = MigrationsConfigMap(ConfigMapOptions{Name: "big", Dir: d})
	require.ErrorContains(t, err, "past the 1 MiB a ConfigMap can hold")
	_, err = Build(Options{Name: "big", Dir: d})
	require.ErrorContains(t, err, "past the 1 MiB")
}

// TestDeterministic builds every case twice: byte-identical files.
func TestDeterministic(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, a := buildCase(t, c)
			_, b := buildCase(t, c)
			assert.Equal(t, a, b)
		})
	}
}

func TestFolderLayout(t *testing.T) {
	_, files := buildCase(t, cases[2])
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{
		"app-deployment.yaml", "argocd/application.yaml", "argocd/argocd-cm-health.yaml", "argocd/kustomization.yaml",
		"atlasmigration.yaml", "db-deployment.yaml", "db-secret.yaml", "db-service.yaml",
		"kustomization.yaml", "kustomizeconfig.yaml", "migrations-configmap.yaml",
	}, paths)
	_, err := Folder(FolderOptions{Objects: nil, Application: mustApp(t), HealthPatch: nil})
	assert.ErrorContains(t, err, "health-check patch is empty")
	_, err = ArgoCDApplication(ArgoCDOptions{Name: "a"})
	assert.ErrorIs(t, err, ErrNoRepoURL)
}

func mustAtoi(t *testing.T, s string) int {
	i, err := strconv.Atoi(s)
	require.NoError(t, err)
	return i
}

func mustApp(t *testing.T) *unstructured.Unstructured {
	app, err := ArgoCDApplication(ArgoCDOptions{Name: "a", RepoURL: "https://x"})
	require.NoError(t, err)
	return app
}

// TestBaselineAndExecOrder: the baseline goes to spec.baseline; Flyway repeatables make the
// AtlasMigration non-linear (versioned files added later sort before them), with a note.
func TestBaselineAndExecOrder(t *testing.T) {
	res, err := Build(Options{Name: "app", Dir: readDir(t, "flyway"), Baseline: "a1a1"})
	require.NoError(t, err)
	var m *unstructured.Unstructured
	for _, o := range res.Objects {
		if o.Role == RoleAtlas {
			m = o.Unstructured
		}
	}
	require.NotNil(t, m)
	baseline, _, _ := unstructured.NestedString(m.Object, "spec", "baseline")
	order, _, _ := unstructured.NestedString(m.Object, "spec", "execOrder")
	assert.Equal(t, "a1a1", baseline)
	assert.Equal(t, "non-linear", order)
	assert.Contains(t, res.Notes[len(res.Notes)-1].Message, "execOrder: non-linear")

	res, err = Build(Options{Name: "app", Dir: readDir(t, "golang-migrate")})
	require.NoError(t, err)
	for _, o := range res.Objects {
		if o.Role == RoleAtlas {
			_, found, _ := unstructured.NestedString(o.Object, "spec", "execOrder")
			assert.False(t, found, "linear, atlas's default, for every other directory")
		}
	}
}

// A changed schema is a changed AtlasSchema spec: the schema ConfigMap's name follows its content,
// so the generation moves and a stale Ready=True cannot pass for the new schema.
func TestSchemaConfigMapNameFollowsContent(t *testing.T) {
	build := func(sql string) (cm, ref string) {
		res, err := Build(Options{Name: "app", Schema: &SchemaFile{FileName: "schema.sql", Data: []byte(sql)}, SchemaConfigMap: true})
		require.NoError(t, err)
		for _, o := range res.Objects {
			switch o.GetKind() {
			case "ConfigMap":
				cm = o.GetName()
				assert.Empty(t, o.GetAnnotations()[NeedsHashAnnotation], "init hashes the name itself")
			case "AtlasSchema":
				ref, _, _ = unstructured.NestedString(o.Object, "spec", "schema", "configMapKeyRef", "name")
			}
		}
		return cm, ref
	}
	cm1, ref1 := build("CREATE TABLE t (id int);")
	cm2, ref2 := build("CREATE TABLE t (id int, name text);")
	again, _ := build("CREATE TABLE t (id int);")
	assert.Equal(t, cm1, ref1)
	assert.Equal(t, cm2, ref2)
	assert.NotEqual(t, cm1, cm2)
	assert.Equal(t, cm1, again, "deterministic")
	assert.Regexp(t, `^app-schema-[0-9a-f]{10}$`, cm1)
}
