package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/lint"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(b), 0o644))
	}
	return dir
}

func TestSQLiteDefault(t *testing.T) {
	ctx := context.Background()
	dir := writeDir(t, map[string]string{
		"1_a.sql": "CREATE TABLE t (id int, name text);\n",
		"2_b.sql": "-- drop it\nALTER TABLE t DROP COLUMN name;\nDROP TABLE t;\n",
	})
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	require.NoError(t, err)
	dev, err := lint.OpenDev(ctx, "")
	require.NoError(t, err)
	defer dev.Close()
	res, err := lint.Run(ctx, d, lint.Options{Dev: dev})
	require.NoError(t, err)
	t.Logf("%+v", res)
}
