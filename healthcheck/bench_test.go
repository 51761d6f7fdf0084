package healthcheck

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEvaluateAtlasMigration is one evaluation of the AtlasMigration script on a realistic
// object. The same benchmark on Argo CD's VM is in healthcheck/argocdtest (hack/bench/healthcheck.sh
// runs both in one go).
func BenchmarkEvaluateAtlasMigration(b *testing.B) {
	data, err := os.ReadFile("testdata/bench/atlasmigration.yaml")
	require.NoError(b, err)
	objs, err := DecodeObjects(data)
	require.NoError(b, err)
	obj := objs[0]
	res, ok, err := Evaluate(obj)
	require.NoError(b, err)
	require.True(b, ok)
	require.Equal(b, Result{Healthy, "applied version 20261115090000"}, res)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Evaluate(obj); err != nil {
			b.Fatal(err)
		}
	}
}
