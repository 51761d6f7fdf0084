package fsutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if e.IsDir() {
			if rel != "." {
				out[filepath.ToSlash(rel)+"/"] = ""
			}
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

var files = []File{{Path: "a.yaml", Data: []byte("a")}, {Path: "sub/b.yaml", Data: []byte("b")}}

func TestWriteNewFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out", "atlas")
	require.NoError(t, WriteFolder(dir, files, false))
	assert.Equal(t, map[string]string{"a.yaml": "a", "sub/": "", "sub/b.yaml": "b"}, tree(t, dir))
	// No staging folder is left behind.
	entries, err := os.ReadDir(filepath.Join(parent, "out"))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
}

func TestRefuseToClobber(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("mine"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o644))
	err := WriteFolder(dir, files, false)
	var ee *ExistsError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"a.yaml"}, ee.Files)
	assert.Equal(t, dir+" already holds a.yaml", err.Error(), "the caller says how to overwrite")
	assert.Equal(t, map[string]string{"a.yaml": "mine", "notes.txt": "keep"}, tree(t, dir), "nothing written")

	require.NoError(t, WriteFolder(dir, files, true))
	assert.Equal(t, map[string]string{"a.yaml": "a", "notes.txt": "keep", "sub/": "", "sub/b.yaml": "b"}, tree(t, dir))
	assert.Len(t, mustReadDir(t, filepath.Dir(dir)), 1, "no staging folder left")
}

// TestRollback makes the second file impossible to place (its folder is a file): the first,
// already replaced, is restored and nothing new remains.
func TestRollback(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("old"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub"), []byte("a file"), 0o644))
	err := WriteFolder(dir, []File{{Path: "a.yaml", Data: []byte("new")}, {Path: "new/c.yaml", Data: []byte("c")}, {Path: "sub/b.yaml", Data: []byte("b")}}, true)
	require.Error(t, err)
	assert.Equal(t, map[string]string{"a.yaml": "old", "sub": "a file"}, tree(t, dir))
}

func TestBadTargets(t *testing.T) {
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	var nd *NotDirError
	require.ErrorAs(t, WriteFolder(file, files, true), &nd)
	assert.Equal(t, file, nd.Dir)
	assert.ErrorContains(t, WriteFolder(filepath.Join(parent, "x"), []File{{Path: "../evil", Data: nil}}, true), "outside")
	assert.ErrorContains(t, WriteFolder(filepath.Join(parent, "x"), nil, true), "nothing to write")
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a.yaml"), 0o755))
	assert.ErrorContains(t, WriteFolder(dir, files, true), "is a directory")
}

// TestSymlinkOut: a link inside the folder that points out of it (a checked-out repository
// may hold one) cannot carry a write there; the folder is left as it was.
func TestSymlinkOut(t *testing.T) {
	elsewhere, dir := t.TempDir(), filepath.Join(t.TempDir(), "out")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("old"), 0o644))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "sub")))
	require.Error(t, WriteFolder(dir, files, true))
	assert.Empty(t, mustReadDir(t, elsewhere), "nothing written through the link")
	b, err := os.ReadFile(filepath.Join(dir, "a.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	assert.Len(t, mustReadDir(t, filepath.Dir(dir)), 1, "no staging folder left")
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	e, err := os.ReadDir(dir)
	require.NoError(t, err)
	return e
}
