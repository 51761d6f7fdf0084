package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/kustomize"
)

// mainRun runs the binary's entry point (a command tree of its own, the error printed through
// the redacting stderr).
func mainRun(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	_ = Main(context.Background(), genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, args)
	return out.String(), errOut.String()
}

// Each command tree has its own Redactor: a secret one run learned (here kubectl's --token)
// is masked in that run's output and means nothing to another tree built in the same process.
// The value has no credential shape, so only a known secret can mask it.
func TestCommandTreesKeepTheirSecrets(t *testing.T) {
	const secret = "Zq8PlainTreeSecret"
	args := []string{"configmap", "--dir", "nope", "--name", "app", "-o", secret}
	_, errA := mainRun(t, "", append([]string{"--token", secret}, args...)...)
	assert.Contains(t, errA, `--output must be yaml or json, not "xxxxx"`)
	assert.NotContains(t, errA, secret)
	_, errB := mainRun(t, "", args...)
	assert.Contains(t, errB, `--output must be yaml or json, not "`+secret+`"`, "the other tree never learned it")
}

// The kustomize function's ResourceList passes no redacting stream (it is kustomize's input,
// byte for byte), so its results are redacted with the command's Redactor: a value of a Secret
// among the items, with no credential shape, is masked in the results and on stderr.
func TestKustomizeFnResultsMaskKnownSecrets(t *testing.T) {
	const secret = "Zq8PlainTableName"
	dir := t.TempDir()
	migs := filepath.Join(dir, "migrations")
	require.NoError(t, os.MkdirAll(migs, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(migs, "1_a.sql"), []byte("CREATE TABLE "+secret+" (id int);\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(migs, "2_b.sql"), []byte("DROP TABLE "+secret+";\n"), 0o644))
	ld, err := migrate.NewLocalDir(migs)
	require.NoError(t, err)
	sum, err := ld.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(ld, sum))
	t.Chdir(dir) // the function resolves spec.dir against the working directory
	in := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: app-db
  stringData:
    note: ` + secret + `
functionConfig:
  apiVersion: ` + kustomize.APIVersion + `
  kind: ` + kustomize.KindMigrationGenerator + `
  metadata:
    name: app
  spec:
    dir: migrations
`
	out, errOut := mainRun(t, in, "kustomize-fn")
	var rl struct {
		Items   []map[string]any   `json:"items"`
		Results []kustomize.Result `json:"results"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &rl), out)
	require.Len(t, rl.Results, 1, out)
	assert.Equal(t, `AtlasMigrationGenerator "app": migrations/2_b.sql:1: DS102: drops table xxxxx and its data`, rl.Results[0].Message)
	assert.Equal(t, `warning: AtlasMigrationGenerator "app": migrations/2_b.sql:1: DS102: drops table xxxxx and its data`+"\n", errOut)
	assert.Contains(t, out, "note: "+secret, "the items are kustomize's input, byte for byte")
}
