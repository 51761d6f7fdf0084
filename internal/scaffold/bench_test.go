package scaffold

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// benchDir writes n migration files of about size bytes in total, with atlas.sum.
func benchDir(b *testing.B, n, size int) string {
	b.Helper()
	dir := b.TempDir()
	files := map[string][]byte{}
	for i := range n {
		var s strings.Builder
		fmt.Fprintf(&s, "CREATE TABLE t%d (\n  id bigint NOT NULL,\n", i)
		for c := 0; s.Len() < size/n-40; c++ {
			fmt.Fprintf(&s, "  col_%03d varchar(255) NOT NULL DEFAULT 'value %d',\n", c, c)
		}
		s.WriteString("  PRIMARY KEY (id)\n);\n")
		files[fmt.Sprintf("2024%010d_t%d.sql", i+1, i+1)] = []byte(s.String())
	}
	tb := &testing.T{}
	writeFiles(tb, dir, files)
	d, err := migdir.Read(dir, migdir.Options{Hash: true})
	if err != nil {
		b.Fatal(err)
	}
	writeFiles(tb, dir, map[string][]byte{migdir.SumFile: d.Files[len(d.Files)-1].Data})
	return dir
}

// BenchmarkPack is `kubectl atlas configmap` on 400 files / 900 KiB: read, validate, render.
func BenchmarkPack(b *testing.B) {
	dir := benchDir(b, 400, 900*1024)
	b.ResetTimer()
	for range b.N {
		d, err := migdir.Read(dir, migdir.Options{})
		if err != nil {
			b.Fatal(err)
		}
		cm, _, err := MigrationsConfigMap(ConfigMapOptions{Name: "bench", Dir: d})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := YAML(cm); err != nil {
			b.Fatal(err)
		}
	}
}
