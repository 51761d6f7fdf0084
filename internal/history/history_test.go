package history

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

func migration(t *testing.T, status string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, yaml.Unmarshal([]byte(`apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: app, namespace: shop, generation: 1}
spec: {dir: {configMapRef: {name: app-migrations}}}
status: `+status), &m))
	return &unstructured.Unstructured{Object: m}
}

func states(h *History) []string {
	var out []string
	for _, m := range h.Migrations {
		out = append(out, m.File+" "+string(m.State))
	}
	return out
}

var dir = map[string]string{
	"1_init.sql": "CREATE TABLE a (id int);\n", "2_b.sql": "CREATE TABLE b (id int);\n",
	"3_c.sql": "CREATE TABLE c (id int);\n", "4_d.sql": "CREATE TABLE d (id int);\n",
	"atlas.sum": "h1:x=\n", "README.md": "not a migration",
}

func TestBuildApplied(t *testing.T) {
	h := Build(migration(t, `{observedGeneration: 1, lastAppliedVersion: "2", conditions: [{type: Ready, status: "False", reason: Reconciling, message: Current migration data has changed}]}`), "ConfigMap app-migrations", dir)
	assert.Equal(t, []string{"1_init.sql applied", "2_b.sql applied", "3_c.sql pending", "4_d.sql pending"}, states(h))
	assert.Equal(t, Migration{Version: "1", Description: "init", File: "1_init.sql", Type: Versioned, State: Applied}, h.Migrations[0])
	assert.Equal(t, healthcheck.Progressing, h.Health.Status)
	assert.Equal(t, "Reconciling", h.Reason)
	_, ok := h.Failed()
	assert.False(t, ok)
}

// The operator's SQL error names the version the run stopped at: earlier files of the run were
// applied (atlas stops at the first failure), even though lastAppliedVersion is not set.
func TestBuildFailedFile(t *testing.T) {
	msg := `sql/migrate: executing statement "INSERT INTO nosuch VALUES (1)" from version "3": pq: relation "nosuch" does not exist (postgres://app:s3cret@db:5432/app)`
	h := Build(migration(t, `{observedGeneration: 1, failed: 2, conditions: [{type: Ready, status: "False", reason: Migrating, message: '`+msg+`'}, {type: Stalled, status: "True", reason: Migrating}]}`), "ConfigMap app-migrations", dir)
	assert.Equal(t, []string{"1_init.sql applied", "2_b.sql applied", "3_c.sql failed", "4_d.sql pending"}, states(h))
	f, ok := h.Failed()
	require.True(t, ok)
	assert.Contains(t, f.Message, `from version "3": pq: relation "nosuch" does not exist`)
	assert.NotContains(t, f.Message, "s3cret")
	assert.Equal(t, healthcheck.Degraded, h.Health.Status)
}

// A failure that names no file (checksum mismatch) marks none; atlas's string order decides
// what is applied ("10" < "9").
func TestBuildChecksumErrorAndOrder(t *testing.T) {
	h := Build(migration(t, `{observedGeneration: 1, lastAppliedVersion: "10", conditions: [{type: Ready, status: "False", reason: Migrating, message: "Error: checksum mismatch"}, {type: Stalled, status: "True", reason: Migrating}]}`),
		"ConfigMap x", map[string]string{"9_b.sql": "x", "10_a.sql": "y", "11_c.sql": "z"})
	assert.Equal(t, []string{"10_a.sql applied", "11_c.sql pending", "9_b.sql pending"}, states(h))
	_, ok := h.Failed()
	assert.False(t, ok)
}

// Converted Flyway repeatables and Liquibase runOnChange changesets carry a checksum in their
// version: they show as such, and the directory runs non-linear.
func TestBuildRepeatables(t *testing.T) {
	h := Build(migration(t, `{observedGeneration: 1, lastAppliedVersion: "zhggjgfhhhd-635c0533", conditions: [{type: Ready, status: "True", reason: Applied}]}`), "ConfigMap x",
		map[string]string{"a1_init.sql": "x", "zhggjgfhhhd-635c0533_views.sql": "y", "001a1-0badf00d_init_bob_3.sql": "z"})
	require.Len(t, h.Migrations, 3)
	assert.Equal(t, Migration{Version: "001a1-0badf00d", Description: "init_bob_3", File: "001a1-0badf00d_init_bob_3.sql", Type: RunOnChange, Checksum: "0badf00d", State: Applied}, h.Migrations[0])
	assert.Equal(t, Migration{Version: "zhggjgfhhhd-635c0533", Description: "views", File: "zhggjgfhhhd-635c0533_views.sql", Type: Repeatable, Checksum: "635c0533", State: Applied}, h.Migrations[2])
	assert.True(t, h.NonLinear)
	assert.Equal(t, healthcheck.Healthy, h.Health.Status)
}

func TestCompareLocal(t *testing.T) {
	h := Build(migration(t, `{observedGeneration: 1, lastAppliedVersion: "2", conditions: [{type: Ready, status: "True", reason: Applied}]}`), "ConfigMap x", dir)
	local := &migdir.Dir{Files: []migdir.File{
		{Name: "1_init.sql", Data: []byte("CREATE TABLE a (id bigint);\n")}, // an applied file edited
		{Name: "2_b.sql", Data: []byte(dir["2_b.sql"])},
		{Name: "3_c.sql", Data: []byte(dir["3_c.sql"])},
		{Name: "5_e.sql", Data: []byte("CREATE TABLE e (id int);\n")},
		{Name: "atlas.sum", Data: []byte("h1:y=\n")},
	}}
	h.CompareLocal(local)
	var got []string
	for _, m := range h.Migrations {
		got = append(got, m.File+" "+string(m.State)+" "+string(m.Local))
	}
	assert.Equal(t, []string{"1_init.sql applied differs", "2_b.sql applied same", "3_c.sql pending same", "4_d.sql pending cluster only", "5_e.sql local only local only"}, got)
	edited := h.Edited()
	require.Len(t, edited, 1)
	assert.Equal(t, "1_init.sql", edited[0].File)
}

func TestDirSource(t *testing.T) {
	cm, local, err := DirSource(migration(t, "{}"))
	require.NoError(t, err)
	assert.Equal(t, "app-migrations", cm)
	assert.Nil(t, local)

	obj := migration(t, "{}")
	obj.Object["spec"] = map[string]any{"dir": map[string]any{"local": map[string]any{"1_a.sql": "x"}}}
	cm, local, err = DirSource(obj)
	require.NoError(t, err)
	assert.Empty(t, cm)
	assert.Equal(t, map[string]string{"1_a.sql": "x"}, local)

	obj.Object["spec"] = map[string]any{"dir": map[string]any{"remote": map[string]any{"name": "app"}}}
	_, _, err = DirSource(obj)
	var remote *RemoteDirError
	assert.ErrorAs(t, err, &remote)
}
