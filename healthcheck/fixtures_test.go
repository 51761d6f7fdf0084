package healthcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every fixture in Argo CD's layout passes with the project's scripts in the project's VM.
func TestFixtures(t *testing.T) {
	files, err := FindTestFiles(customizationsDir)
	require.NoError(t, err)
	require.Len(t, files, 3, "one health_test.yaml per kind with its own script, one for the generic script")
	r := &Runner{Evaluator: Default()}
	for _, f := range files {
		cases, err := r.TestFile(f)
		require.NoError(t, err)
		require.NotEmpty(t, cases)
		for _, c := range cases {
			t.Run(c.Source, func(t *testing.T) {
				require.NoError(t, c.Err)
				require.NotEmpty(t, c.Script)
				assert.Equal(t, *c.Want, c.Got, c.Input)
			})
		}
	}
}

// The fixtures cover every reason the operator sets (facts/atlas-operator.md) on some kind.
func TestFixturesCoverOperatorReasons(t *testing.T) {
	reasons := []string{"Reconciling", "GettingDevDB", "ApprovalPending", "Applied",
		"WhoAmI", "CreatingAtlasClient", "CreatingWorkingDir", "Login", "ReadingMigrationData",
		"Migrating", "StoringDirState", "ReadSchema", "CalculatingHash", "LintPolicyError",
		"ModifyingAtlasHCL", "SchemaInspect", "SchemaPush", "SchemaPlan", "ListingPlans",
		"VerifyingFirstRun", "FirstRunDestructive", "ApplyingSchema", "ProtectedFlowError",
		"PlanRejected", "CopyingDirState"}
	var all strings.Builder
	for _, kind := range Kinds {
		matches, err := filepath.Glob(filepath.Join(customizationsDir, "db.atlasgo.io", kind, "testdata", "*.yaml"))
		require.NoError(t, err)
		for _, m := range matches {
			b, err := os.ReadFile(m)
			require.NoError(t, err)
			all.Write(b)
		}
	}
	for _, r := range reasons {
		assert.Contains(t, all.String(), "reason: "+r+"\n", "no fixture with reason %s", r)
	}
}

// The checked-in health.lua of each kind is what `healthcheck generate --format lua` prints, so
// the folder can go upstream without running our tools.
func TestCustomizationsUpToDate(t *testing.T) {
	for _, kind := range append(Kinds, GenericKind) {
		folder := kind
		if kind == GenericKind {
			folder = "_" // Argo CD's spelling of a wildcard in resource_customizations
		}
		path := filepath.Join(customizationsDir, "db.atlasgo.io", folder, "health.lua")
		want, err := Render(GenerateOptions{Format: FormatLua, Kind: kind})
		require.NoError(t, err)
		got, err := os.ReadFile(path)
		require.NoError(t, err, "regenerate it with `make generate` (go generate ./healthcheck/)")
		assert.Equal(t, string(want), string(got),
			"healthcheck/%s differs from `kubectl atlas healthcheck generate --format lua --kind %s`: "+
				"regenerate it with `make generate` (go generate ./healthcheck/) and commit it", path, kind)
	}
}

// The generic script is one text for every kind it covers: what `generate --kind AtlasDriftCheck`
// prints is what the wildcard entry holds.
func TestGenericScriptIsOneText(t *testing.T) {
	want, err := Script(GenericKind)
	require.NoError(t, err)
	for _, kind := range []string{"AtlasDriftCheck", "AtlasSecurityScan", "AtlasFutureKind2"} {
		got, err := Script(kind)
		require.NoError(t, err)
		assert.Equal(t, want, got, kind)
	}
	for _, bad := range []string{"", "atlasdriftcheck", "Atlas-Drift", "db.atlasgo.io/AtlasDriftCheck"} {
		_, err := Script(bad)
		assert.Error(t, err, bad)
	}
}
