package kustomize_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
	"github.com/kubectl-atlas/kubectl-atlas/kustomize"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

// serveFnEnv makes this test binary act as kubectl-atlas: kustomize execs it (path os.Args[0],
// this env in the function's exec.envs), and it runs the plugin's own root command, so the
// in-process krusty tests exercise the real exec protocol without building the binary.
const serveFnEnv = "KUBECTL_ATLAS_TEST_SERVE_FN"

func TestMain(m *testing.M) {
	if os.Getenv(serveFnEnv) == "1" {
		streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
		cmd := plugin.NewCmdAtlas(streams)
		cmd.SetArgs(os.Args[1:])
		err := cmd.Execute()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(exitcode.Code(err))
	}
	os.Exit(m.Run())
}

// writeMigrations writes an atlas migration directory with a valid atlas.sum.
func writeMigrations(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	ld, err := migrate.NewLocalDir(dir)
	require.NoError(t, err)
	sum, err := ld.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(ld, sum))
}

var baseMigrations = map[string]string{
	"20240101000000_users.sql": "CREATE TABLE users (id int PRIMARY KEY, name varchar(100));\n",
	"20240102000000_posts.sql": "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users(id));\n",
}

// fnAnnotation is the function annotation that runs this test binary as the generator.
func fnAnnotation() string {
	return fmt.Sprintf("exec:\n  path: %s\n  args: [kustomize-fn]\n  envs: [%s=1]\n", os.Args[0], serveFnEnv)
}

func generatorYAML(kind, name, annotation, spec string) string {
	return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  annotations:\n    config.kubernetes.io/function: |\n%s%s",
		kustomize.APIVersion, kind, name, indent(annotation, "      "), "spec:\n"+indent(spec, "  "))
}

func indent(s, by string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(by + l + "\n")
	}
	return b.String()
}

const dbSecret = `apiVersion: v1
kind: Secret
metadata:
  name: app-db
stringData:
  url: mysql://root:pass@app-db.default:3306/app
`

// writeBase lays out a base kustomization: migrations/, the generator, the database Secret and
// the nameReference configuration.
func writeBase(t *testing.T, root, annotation string) string {
	t.Helper()
	base := filepath.Join(root, "base")
	writeMigrations(t, filepath.Join(base, "migrations"), baseMigrations)
	files := map[string]string{
		"kustomization.yaml": "resources:\n- secret.yaml\ngenerators:\n- generator.yaml\nconfigurations:\n- kustomizeconfig.yaml\n",
		"generator.yaml": generatorYAML(kustomize.KindMigrationGenerator, "app", annotation,
			"dir: migrations\nurlFrom:\n  secretKeyRef:\n    name: app-db\n    key: url\n"),
		"secret.yaml":          dbSecret,
		"kustomizeconfig.yaml": string(scaffold.NameReferenceConfig()),
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(base, name), []byte(content), 0o644))
	}
	return base
}

func kustomizer(exec bool) *krusty.Kustomizer {
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = exec
	return krusty.MakeKustomizer(opts)
}

// build runs kustomize in-process on dir and returns the objects by kind and the function's stderr.
func build(t *testing.T, dir string) (map[string][]*unstructured.Unstructured, string, error) {
	t.Helper()
	// kustomize hands the function the process's stderr: catch it for the assertions.
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = f
	rm, runErr := kustomizer(true).Run(filesys.MakeFsOnDisk(), dir)
	os.Stderr = saved
	require.NoError(t, f.Close())
	stderr, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	if runErr != nil {
		return nil, string(stderr), runErr
	}
	b, err := rm.AsYaml()
	require.NoError(t, err)
	return byKind(t, b), string(stderr), nil
}

func byKind(t *testing.T, stream []byte) map[string][]*unstructured.Unstructured {
	t.Helper()
	out := map[string][]*unstructured.Unstructured{}
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		if strings.TrimSpace(doc) == "" || strings.TrimSpace(doc) == "---" {
			continue
		}
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		out[u.GetKind()] = append(out[u.GetKind()], u)
	}
	return out
}

func one(t *testing.T, objs map[string][]*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	require.Len(t, objs[kind], 1, "want exactly one %s, got %v", kind, objs)
	return objs[kind][0]
}

func configMapRef(t *testing.T, m *unstructured.Unstructured) string {
	t.Helper()
	name, _, err := unstructured.NestedString(m.Object, "spec", "dir", "configMapRef", "name")
	require.NoError(t, err)
	return name
}

// runPlugin runs kubectl-atlas in-process, as a user would from the command line.
func runPlugin(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestBaseEmitsWhatInitEmits(t *testing.T) {
	base := writeBase(t, t.TempDir(), fnAnnotation())
	objs, stderr, err := build(t, base)
	require.NoError(t, err, stderr)

	cm := one(t, objs, "ConfigMap")
	m := one(t, objs, "AtlasMigration")
	assert.Regexp(t, `^app-migrations-[a-z0-9]{10}$`, cm.GetName(), "the ConfigMap carries kustomize's content hash")
	assert.Equal(t, cm.GetName(), configMapRef(t, m), "the AtlasMigration follows the hashed name")
	assert.NotContains(t, cm.GetAnnotations(), scaffold.NeedsHashAnnotation, "kustomize consumes the annotation")

	// The same inputs through `init -o yaml`: identical objects but for the hash.
	t.Chdir(base)
	out, _, err := runPlugin(t, "init", "--dir", "migrations", "--name", "app", "--url-secret", "app-db:url", "-o", "yaml")
	require.NoError(t, err)
	want := byKind(t, []byte(out))
	wantCM, wantM := one(t, want, "ConfigMap"), one(t, want, "AtlasMigration")
	gotCM, gotM := cm.DeepCopy(), m.DeepCopy()
	gotCM.SetName(wantCM.GetName())
	require.NoError(t, unstructured.SetNestedField(gotM.Object, wantCM.GetName(), "spec", "dir", "configMapRef", "name"))
	assert.Equal(t, wantCM.Object, gotCM.Object)
	assert.Equal(t, wantM.Object, gotM.Object)
	assert.Equal(t, "20240102000000", m.GetAnnotations()["kubectl-atlas.io/target-version"])
}

func TestOverlayWithPrefixFollowsNames(t *testing.T) {
	root := t.TempDir()
	base := writeBase(t, root, fnAnnotation())
	overlay := filepath.Join(root, "overlays", "staging")
	require.NoError(t, os.MkdirAll(overlay, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(overlay, "kustomization.yaml"),
		[]byte("resources:\n- ../../base\nnamePrefix: staging-\nnameSuffix: -v2\nnamespace: staging\n"), 0o644))

	baseObjs, stderr, err := build(t, base)
	require.NoError(t, err, stderr)
	objs, stderr, err := build(t, overlay)
	require.NoError(t, err, stderr)

	cm, m, secret := one(t, objs, "ConfigMap"), one(t, objs, "AtlasMigration"), one(t, objs, "Secret")
	assert.Regexp(t, `^staging-app-migrations-v2-[a-z0-9]{10}$`, cm.GetName())
	assert.Equal(t, "staging-app-v2", m.GetName())
	assert.Equal(t, "staging", m.GetNamespace())
	assert.Equal(t, "staging", cm.GetNamespace())
	assert.Equal(t, cm.GetName(), configMapRef(t, m))
	secretName, _, _ := unstructured.NestedString(m.Object, "spec", "urlFrom", "secretKeyRef", "name")
	assert.Equal(t, secret.GetName(), secretName)
	assert.Equal(t, "staging-app-db-v2", secretName)
	// The overlay keeps the base's content hash, behind the suffix.
	assert.Equal(t, strings.TrimPrefix(one(t, baseObjs, "ConfigMap").GetName(), "app-migrations-"), strings.TrimPrefix(cm.GetName(), "staging-app-migrations-v2-"))
}

func TestChangedMigrationChangesHash(t *testing.T) {
	base := writeBase(t, t.TempDir(), fnAnnotation())
	before, stderr, err := build(t, base)
	require.NoError(t, err, stderr)
	again, stderr, err := build(t, base)
	require.NoError(t, err, stderr)
	assert.Equal(t, one(t, before, "ConfigMap").GetName(), one(t, again, "ConfigMap").GetName(), "same input, same name")

	changed := map[string]string{}
	for k, v := range baseMigrations {
		changed[k] = v
	}
	changed["20240103000000_index.sql"] = "CREATE INDEX users_name ON users (name);\n"
	writeMigrations(t, filepath.Join(base, "migrations"), changed)
	after, stderr, err := build(t, base)
	require.NoError(t, err, stderr)

	cmBefore, cmAfter := one(t, before, "ConfigMap"), one(t, after, "ConfigMap")
	assert.NotEqual(t, cmBefore.GetName(), cmAfter.GetName())
	m := one(t, after, "AtlasMigration")
	assert.Equal(t, cmAfter.GetName(), configMapRef(t, m))
	assert.Equal(t, "20240103000000", m.GetAnnotations()["kubectl-atlas.io/target-version"])
}

func TestSchemaGenerator(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "generators:\n- generator.yaml\nconfigurations:\n- kustomizeconfig.yaml\nnamePrefix: dev-\n",
		"generator.yaml": generatorYAML(kustomize.KindSchemaGenerator, "shop", fnAnnotation(),
			"schema: schema.sql\nconfigMap: true\nwave: 5\nurlFrom:\n  secretKeyRef:\n    name: shop-db\n"),
		"schema.sql":           "CREATE TABLE t (id int);\n",
		"kustomizeconfig.yaml": string(scaffold.NameReferenceConfig()),
	}
	writeTree(t, dir, files)
	objs, stderr, err := build(t, dir)
	require.NoError(t, err, stderr)
	cm, s := one(t, objs, "ConfigMap"), one(t, objs, "AtlasSchema")
	assert.Regexp(t, `^dev-shop-schema-[a-z0-9]{10}$`, cm.GetName())
	ref, _, _ := unstructured.NestedString(s.Object, "spec", "schema", "configMapKeyRef", "name")
	assert.Equal(t, cm.GetName(), ref)
	key, _, _ := unstructured.NestedString(s.Object, "spec", "schema", "configMapKeyRef", "key")
	assert.Equal(t, "schema.sql", key)
	secret, _, _ := unstructured.NestedString(s.Object, "spec", "urlFrom", "secretKeyRef", "key")
	assert.Equal(t, "url", secret, "the Secret key defaults to url")
	assert.Equal(t, "5", s.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	assert.Equal(t, "5", cm.GetAnnotations()["argocd.argoproj.io/sync-wave"])
}

// writeTree writes files (name -> content) into dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

// TestInlineURLNoteNamesSpecFields: scaffold's note about an inline password reaches a kustomize
// user with the generator's own field, never a kubectl atlas flag.
func TestInlineURLNoteNamesSpecFields(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "generators:\n- generator.yaml\n",
		"generator.yaml": generatorYAML(kustomize.KindSchemaGenerator, "shop", fnAnnotation(),
			"schema: schema.sql\nurl: postgres://u:hunter2@db/app\n"),
		"schema.sql": "CREATE TABLE t (id int);\n",
	}
	writeTree(t, dir, files)
	_, stderr, err := build(t, dir)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "holds a password and will be committed in clear text: set spec.urlFrom to a Secret instead of spec.url")
	assert.NotContains(t, stderr, "--url-secret")
	assert.NotContains(t, stderr, "hunter2")
}

// TestBadInputErrors: bad directories fail the build with the error `configmap` gives for the
// same directory, prefixed with the generator, and nothing is generated.
// badInputCase is one bad generator input, and what the generator and `configmap` say of it.
type badInputCase struct {
	name  string
	setup func(t *testing.T, dir string)
	spec  string
	// configmapArgs, when set, must give an error contained in the generator's.
	configmapArgs []string
	want          string
}

// badInputCases are the bad inputs of TestBadInputErrors.
var badInputCases = []badInputCase{
	{
		name:          "missing directory",
		spec:          "dir: migrations\n",
		configmapArgs: []string{"configmap", "--dir", "migrations", "--name", "x"},
		want:          "migrations does not exist",
	},
	{
		name: "checksum mismatch",
		setup: func(t *testing.T, dir string) {
			writeMigrations(t, filepath.Join(dir, "migrations"), baseMigrations)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "20240101000000_users.sql"), []byte("CREATE TABLE users (id bigint);\n"), 0o644))
		},
		spec:          "dir: migrations\n",
		configmapArgs: []string{"configmap", "--dir", "migrations", "--name", "x"},
		want:          "was edited since atlas.sum was written (atlas.sum line 2: checksum mismatch). If the change is intended, run `atlas migrate hash`; otherwise restore the file. Applied migrations must never be edited; commit atlas.sum with the migrations of spec.dir",
	},
	{
		name: "missing atlas.sum",
		setup: func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "1_a.sql"), []byte("CREATE TABLE a (id int);\n"), 0o644))
		},
		spec:          "dir: migrations\n",
		configmapArgs: []string{"configmap", "--dir", "migrations", "--name", "x"},
		want:          "migrations/atlas.sum: not found: the directory has no integrity file, so the operator's atlas would refuse it. Run `atlas migrate hash` in the directory; commit atlas.sum with the migrations of spec.dir",
	},
	{
		name: "another tool's directory",
		setup: func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "1_a.up.sql"), []byte("CREATE TABLE a (id int);\n"), 0o644))
		},
		spec: "dir: migrations\nformat: goose\n",
		want: "(the directory looks like golang-migrate: set spec.format: golang-migrate)",
	},
	{
		name: "no migration files",
		setup: func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "README.md"), []byte("x"), 0o644))
		},
		spec:          "dir: migrations\n",
		configmapArgs: []string{"configmap", "--dir", "migrations", "--name", "x"},
		want:          "no migration files (*.sql) found (only README.md): point spec.dir at the folder holding the migrations, or set spec.format if they come from another tool",
	},
	{
		name: "destructive change denied",
		setup: func(t *testing.T, dir string) {
			writeMigrations(t, filepath.Join(dir, "migrations"), map[string]string{"1_a.sql": "DROP TABLE a;\n"})
		},
		spec: "dir: migrations\ndenyDestructive: true\n",
		want: "spec.denyDestructive is set: 1 destructive change(s) in migrations: review them; silence one intended change with `-- atlas:nolint DS102` above its statement",
	},
	{
		name: "a file, not a directory",
		setup: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations"), []byte("x"), 0o644))
		},
		spec:          "dir: migrations\n",
		configmapArgs: []string{"configmap", "--dir", "migrations", "--name", "x"},
		want:          "not a directory",
	},
	{
		name: "outside the kustomization",
		spec: "dir: ../migrations\n",
		want: `spec.dir "../migrations" must be a relative path inside the kustomization directory`,
	},
	{
		name: "unknown field",
		spec: "dirr: migrations\n",
		want: `unknown field "dirr" (see docs/kustomize.md`,
	},
	{
		name: "no dir",
		spec: "format: atlas\n",
		want: "spec.dir is required",
	},
}

func TestBadInputErrors(t *testing.T) {
	for _, tc := range badInputCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("generators:\n- generator.yaml\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "generator.yaml"), []byte(generatorYAML(kustomize.KindMigrationGenerator, "app", fnAnnotation(), tc.spec)), 0o644))
			_, stderr, err := build(t, dir)
			require.Error(t, err)
			assert.Contains(t, stderr, `AtlasMigrationGenerator "app": `)
			assert.Contains(t, stderr, tc.want)
			if tc.configmapArgs != nil {
				t.Chdir(dir)
				_, _, cmErr := runPlugin(t, tc.configmapArgs...)
				require.Error(t, cmErr)
				_, libErr := migdir.Read("migrations", migdir.Options{})
				require.Error(t, libErr)
				assert.Contains(t, stderr, libErr.Error(), "the generator reports the library's error")
				assert.Contains(t, cmErr.Error(), libErr.Error(), "so does configmap, with its own fix")
			}
			assert.NotRegexp(t, `(^|\s)--[a-z]`, tc.want, "the generator's fixes name config fields, not CLI flags")
		})
	}
}

// TestAlphaPluginsWithoutExecGenerateNothing pins the kustomize behaviour the docs warn about:
// --enable-alpha-plugins without --enable-exec silently skips the generator.
func TestAlphaPluginsWithoutExecGenerateNothing(t *testing.T) {
	base := writeBase(t, t.TempDir(), fnAnnotation())
	rm, err := kustomizer(false).Run(filesys.MakeFsOnDisk(), base)
	require.NoError(t, err, "no error, which is the trap")
	b, err := rm.AsYaml()
	require.NoError(t, err)
	objs := byKind(t, b)
	assert.Empty(t, objs["ConfigMap"])
	assert.Empty(t, objs["AtlasMigration"])
	assert.Len(t, objs["Secret"], 1)
}

// TestExecEndToEnd builds the real kubectl-atlas, puts it on PATH and runs the generator the
// way the docs tell users to: exec path kubectl-atlas, args [kustomize-fn]. It also runs the
// standalone mode and --print-config.
func TestExecEndToEnd(t *testing.T) {
	bin := t.TempDir()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cmd := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-atlas"), "./cmd/kubectl-atlas")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	viaTestBinary, stderr, err := build(t, writeBase(t, t.TempDir(), fnAnnotation()))
	require.NoError(t, err, stderr)
	base := writeBase(t, t.TempDir(), "exec:\n  path: kubectl-atlas\n  args: [kustomize-fn]\n")
	viaBinary, stderr, err := build(t, base)
	require.NoError(t, err, stderr)
	assert.Equal(t, viaTestBinary, viaBinary)
	assert.Equal(t, one(t, viaBinary, "ConfigMap").GetName(), configMapRef(t, one(t, viaBinary, "AtlasMigration")))

	standalone := exec.Command(filepath.Join(bin, "kubectl-atlas"), "kustomize-fn", "generator.yaml")
	standalone.Dir = base
	out, err = standalone.Output()
	require.NoError(t, err)
	objs := byKind(t, out)
	assert.Equal(t, "true", one(t, objs, "ConfigMap").GetAnnotations()[scaffold.NeedsHashAnnotation])
	assert.Equal(t, "app-migrations", configMapRef(t, one(t, objs, "AtlasMigration")))

	printed, err := exec.Command(filepath.Join(bin, "kubectl-atlas"), "kustomize-fn", "--print-config").Output()
	require.NoError(t, err)
	assert.Equal(t, string(scaffold.NameReferenceConfig()), string(printed))

	bad := exec.Command(filepath.Join(bin, "kubectl-atlas"), "kustomize-fn", "missing.yaml")
	bad.Dir = base
	var badErr bytes.Buffer
	bad.Stderr = &badErr
	err = bad.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, exitcode.Failure, ee.ExitCode())
	assert.Contains(t, badErr.String(), "missing.yaml")
}

func TestKustomizeFnCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"two configs", []string{"kustomize-fn", "a.yaml", "b.yaml"}, exitcode.Usage, "at most 1 arg"},
		{"no functionConfig on stdin", []string{"kustomize-fn"}, exitcode.Failure, "no functionConfig"},
		{"missing config file", []string{"kustomize-fn", "nope.yaml"}, exitcode.Failure, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			_, _, err := runPlugin(t, tc.args...)
			require.Error(t, err)
			assert.Equal(t, tc.code, exitcode.Code(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestGeneratorBaseline: spec.baseline is the source tool's version, written as the converted
// file's version in the AtlasMigration; one the directory does not hold fails the build.
func TestGeneratorBaseline(t *testing.T) {
	for _, tc := range []struct{ baseline, want, err string }{
		{baseline: "2", want: "a2"},
		{baseline: "7", err: "spec.baseline: migrations: baseline version 7 (atlas version a7) is not a migration of the directory"},
	} {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
		for name, content := range map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);\n", "2_b.up.sql": "CREATE TABLE b (id int);\n", "10_c.up.sql": "CREATE TABLE c (id int);\n"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", name), []byte(content), 0o644))
		}
		files := map[string]string{
			"kustomization.yaml": "generators:\n- generator.yaml\n",
			"generator.yaml":     generatorYAML(kustomize.KindMigrationGenerator, "app", fnAnnotation(), "dir: migrations\nbaseline: \""+tc.baseline+"\"\n"),
		}
		writeTree(t, dir, files)
		objs, stderr, err := build(t, dir)
		if tc.err != "" {
			require.Error(t, err)
			assert.Contains(t, err.Error()+stderr, tc.err)
			continue
		}
		require.NoError(t, err, stderr)
		m := one(t, objs, "AtlasMigration")
		got, _, _ := unstructured.NestedString(m.Object, "spec", "baseline")
		assert.Equal(t, tc.want, got)
	}
}

// TestGeneratorNonLinearForReruns: the generator's AtlasMigration carries execOrder: non-linear
// when the directory has files that run again when edited (Flyway repeatables, Liquibase
// runOnChange), and not otherwise; the note says why.
func TestGeneratorNonLinearForReruns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"flyway repeatable", map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n", "R__v.sql": "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n"}, "non-linear"},
		{"liquibase runOnChange", map[string]string{"001_a.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a (id int);\n--changeset a:2 runOnChange:true\nCREATE OR REPLACE VIEW v AS SELECT id FROM a;\n"}, "non-linear"},
		{"flyway without repeatables", map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
			files := map[string]string{
				"kustomization.yaml": "generators:\n- generator.yaml\n",
				"generator.yaml":     generatorYAML(kustomize.KindMigrationGenerator, "app", fnAnnotation(), "dir: migrations\n"),
			}
			for name, content := range tc.files {
				files["migrations/"+name] = content
			}
			writeTree(t, dir, files)
			if tc.want != "" {
				// The generator never writes the rerun ledger: without it, it refuses.
				_, stderr, err := build(t, dir)
				require.Error(t, err)
				assert.Contains(t, stderr, "migrations/kubectl-atlas.ledger: not found")
				assert.Contains(t, stderr, "Record them with `kubectl atlas configmap` or `kubectl atlas init`")
				d, err := migdir.Read(filepath.Join(dir, "migrations"), migdir.Options{})
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", migdir.LedgerFile), d.Ledger, 0o644))
			}
			objs, stderr, err := build(t, dir)
			require.NoError(t, err, stderr)
			got, _, _ := unstructured.NestedString(one(t, objs, "AtlasMigration").Object, "spec", "execOrder")
			assert.Equal(t, tc.want, got)
			if tc.want != "" {
				assert.Contains(t, stderr, "execOrder: non-linear: its ")
				assert.Contains(t, stderr, "commit kubectl-atlas.ledger with the migrations")
				// An edit the committed ledger does not record yet is refused too.
				for name, content := range tc.files {
					files["migrations/"+name] = strings.ReplaceAll(content, "SELECT id", "SELECT id, 1 AS edited")
				}
				writeTree(t, dir, files)
				_, stderr, err = build(t, dir)
				require.Error(t, err)
				assert.Contains(t, stderr, "migrations/kubectl-atlas.ledger: does not record ")
			}
		})
	}
}

// TestResultsInResourceList: what the generator reports goes to ResourceList.results (where
// kustomize users and tools look for it), with severity, file and code, as well as to stderr.
func TestResultsInResourceList(t *testing.T) {
	dir := t.TempDir()
	writeMigrations(t, filepath.Join(dir, "migrations"), map[string]string{
		"1_a.sql": "CREATE TABLE a (id int);\n",
		"2_b.sql": "DROP TABLE a;\n",
	})
	config := generatorYAML(kustomize.KindMigrationGenerator, "app", fnAnnotation(), "dir: migrations\n")
	var in bytes.Buffer
	in.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n" + indent(config, "  "))
	var out, errOut bytes.Buffer
	p := kustomize.Processor(dir, &errOut)
	require.NoError(t, kustomize.Execute(p, &kio.ByteReadWriter{Reader: bytes.NewReader(in.Bytes()), Writer: &out}))
	// The protocol as kyaml's framework speaks it: the same bytes out for the same processor.
	var viaFramework bytes.Buffer
	require.NoError(t, framework.Execute(framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		ours := &kustomize.ResourceList{Items: rl.Items, FunctionConfig: rl.FunctionConfig}
		err := kustomize.Processor(dir, io.Discard)(ours)
		rl.Items = ours.Items
		for _, r := range ours.Results {
			fr := &framework.Result{Message: r.Message, Severity: framework.Severity(r.Severity), Tags: r.Tags}
			if r.File != nil {
				fr.File = &framework.File{Path: r.File.Path, Index: r.File.Index}
			}
			rl.Results = append(rl.Results, fr)
		}
		return err
	}), &kio.ByteReadWriter{Reader: bytes.NewReader(in.Bytes()), Writer: &viaFramework}))
	assert.Equal(t, viaFramework.String(), out.String())
	var rl struct {
		Results []framework.Result `json:"results"`
	}
	require.NoError(t, yaml.Unmarshal(out.Bytes(), &rl), out.String())
	require.Len(t, rl.Results, 1, out.String())
	r := rl.Results[0]
	assert.Equal(t, framework.Warning, r.Severity)
	assert.Equal(t, `AtlasMigrationGenerator "app": migrations/2_b.sql:1: DS102: drops table a and its data`, r.Message)
	assert.Equal(t, "migrations/2_b.sql", r.File.Path)
	assert.Equal(t, "DS102", r.Tags["code"])
	assert.Equal(t, `warning: AtlasMigrationGenerator "app": migrations/2_b.sql:1: DS102: drops table a and its data`+"\n", errOut.String())
}

// spec.lintDevURL: atlas's analyzers on a dev database (here the embedded SQLite) instead of the
// text check, their findings in ResourceList.results and on stderr.
func TestLintDevURL(t *testing.T) {
	dir := t.TempDir()
	writeMigrations(t, filepath.Join(dir, "migrations"), map[string]string{
		"1_a.sql": "CREATE TABLE a (id int, x int);\n",
		"2_b.sql": "CREATE TABLE tmp (id int);\nDROP TABLE tmp;\nCREATE UNIQUE INDEX a_x ON a (x);\n",
	})
	config := generatorYAML(kustomize.KindMigrationGenerator, "app", fnAnnotation(), "dir: migrations\nlintDevURL: sqlite://dev?mode=memory\n")
	var in bytes.Buffer
	in.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n" + indent(config, "  "))
	var out, errOut bytes.Buffer
	require.NoError(t, kustomize.Execute(kustomize.Processor(dir, &errOut), &kio.ByteReadWriter{Reader: &in, Writer: &out}))
	assert.Equal(t, `warning: AtlasMigrationGenerator "app": migrations/2_b.sql:3: MF101: Adding a unique index "a_x" on table "a" might fail in case column "x" contains duplicate entries`+"\n", errOut.String())
}
