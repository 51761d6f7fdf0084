package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

// fixtureRecords are the records of two checked-in health fixtures (one Healthy, one Degraded).
func fixtureRecords(t *testing.T) []status.Record {
	t.Helper()
	dir := "../healthcheck/resource_customizations/db.atlasgo.io/AtlasMigration/testdata"
	var recs []status.Record
	for _, f := range []string{"applied-ahead-of-target.yaml", "applied-stale-version.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		obj := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(b, &obj.Object))
		obj.SetName(strings.TrimSuffix(f, ".yaml"))
		obj.SetNamespace("prod")
		recs = append(recs, status.Summarize(obj))
	}
	return recs
}

func printRecords(t *testing.T, output string, noHeaders bool) string {
	t.Helper()
	flags := genericclioptions.NewPrintFlags("")
	flags.OutputFormat = &output
	p, err := newRecordPrinter(flags, noHeaders)
	require.NoError(t, err)
	o := &StatusOptions{printer: p, now: time.Now}
	var b bytes.Buffer
	require.NoError(t, p.list(&b, o.columns(), fixtureRecords(t)))
	return b.String()
}

func TestStatusPrinters(t *testing.T) {
	recs := fixtureRecords(t)
	var doc struct {
		APIVersion, Kind string
		Items            []status.Record
	}
	require.NoError(t, json.Unmarshal([]byte(printRecords(t, "json", false)), &doc))
	assert.Equal(t, "v1", doc.APIVersion)
	assert.Equal(t, "List", doc.Kind)
	require.Len(t, doc.Items, 2)
	assert.Equal(t, recs[0].Status, doc.Items[0].Status)
	assert.Equal(t, recs[0].Metadata, doc.Items[0].Metadata)
	assert.Equal(t, "db.atlasgo.io/v1alpha1", doc.Items[0].APIVersion)

	var ydoc struct{ Items []status.Record }
	require.NoError(t, yaml.Unmarshal([]byte(printRecords(t, "yaml", false)), &ydoc))
	assert.Equal(t, doc.Items, ydoc.Items, "the same object in json and yaml")

	health := string(recs[0].Status.Health) + " " + string(recs[1].Status.Health)
	assert.Equal(t, health, printRecords(t, "jsonpath={.items[*].status.health}", false))
	assert.Equal(t, "applied-ahead-of-target applied-stale-version ",
		printRecords(t, "go-template={{range .items}}{{.metadata.name}} {{end}}", false))
	assert.Equal(t, "atlasmigration.db.atlasgo.io/applied-ahead-of-target\natlasmigration.db.atlasgo.io/applied-stale-version\n",
		printRecords(t, "name", false))

	table := printRecords(t, "", false)
	assert.True(t, strings.HasPrefix(table, "NAME "), table)
	bare := printRecords(t, "", true)
	assert.Equal(t, strings.SplitN(table, "\n", 2)[1], bare, "--no-headers drops only the header")
	assert.Contains(t, printRecords(t, "wide", false), "GENERATION")
}

func TestStatusOutputUsage(t *testing.T) {
	for _, args := range [][]string{
		{"status", "-o", "xml"},
		{"status", "-o", "jsonpath={.items[}"},
		{"status", "-o", "json", "--no-headers"},
	} {
		_, _, code := runAtlas(t, args...)
		assert.Equal(t, exitcode.Usage, code, "%v", args)
	}
}

func TestVersionPrinters(t *testing.T) {
	out, _, code := runAtlas(t, "version", "-o", "json")
	require.Equal(t, 0, code)
	var info VersionInfo
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, "dev", info.Version)
	assert.Contains(t, out, "\n    \"version\"", "cli-runtime's indentation, as status -o json")
	out, _, code = runAtlas(t, "version", "-o", "yaml")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "version: dev\n")
	_, _, code = runAtlas(t, "version", "-o", "xml")
	assert.Equal(t, exitcode.Usage, code)
}

// -o json is written item by item, byte for byte what cli-runtime's JSON printer writes of the
// same List (the printer holds the whole List in memory at once).
func TestStatusJSONStreamIsThePrintersOutput(t *testing.T) {
	recs := fixtureRecords(t)
	recs = append(recs, recs...)
	recs[0].Status.Message = `a <tag> & "quote" \ and unicode é`
	flags := genericclioptions.NewPrintFlags("")
	out := "json"
	flags.OutputFormat = &out
	p, err := newRecordPrinter(flags, false)
	require.NoError(t, err)
	require.True(t, p.json)
	for _, n := range []int{0, 1, len(recs)} {
		var streamed, printed bytes.Buffer
		require.NoError(t, p.objects(&streamed, recs[:n]))
		p.json = false
		require.NoError(t, p.objects(&printed, recs[:n]))
		p.json = true
		assert.Equal(t, printed.String(), streamed.String(), "%d records", n)
	}
}
