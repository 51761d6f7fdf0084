package migdir

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestRunOnChangeOrderProperty: in random Liquibase directories whose files end with
// runOnChange changesets, the byte order of the converted names is the changelog's order of
// changesets (files by name, then position), and editing one runOnChange changeset renames
// its file alone, to a name in the same place.
func TestRunOnChangeOrderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 2026))
	for iter := 0; iter < 200; iter++ {
		fsys, order := randomLiquibase(r)
		names := convertedNames(t, fsys)
		require.Equal(t, order, changesetsInNameOrder(t, fsys, names), "iteration %d", iter)

		// Edit one runOnChange changeset (if any) and convert again.
		var rocFiles []string
		for p, f := range fsys {
			if strings.Contains(string(f.Data), "runOnChange:true") {
				rocFiles = append(rocFiles, p)
			}
		}
		if len(rocFiles) == 0 {
			continue
		}
		sort.Strings(rocFiles)
		p := rocFiles[r.IntN(len(rocFiles))]
		edited := fstest.MapFS{}
		for k, v := range fsys {
			edited[k] = v
		}
		i := strings.LastIndex(string(fsys[p].Data), "SELECT ")
		edited[p] = &fstest.MapFile{Data: []byte(string(fsys[p].Data[:i]) + "SELECT 'edited', " + string(fsys[p].Data[i+len("SELECT "):]))}
		after := convertedNames(t, edited)
		require.Equal(t, order, changesetsInNameOrder(t, edited, after))
		require.Equal(t, len(names), len(after))
		changed := 0
		for j := range names {
			if names[j] != after[j] {
				changed++
			}
		}
		require.Equal(t, 1, changed, "only the edited changeset's file is renamed: %v -> %v", names, after)
	}
}

// randomLiquibase makes 1..6 files with numeric names of random widths, each with 0..3
// run-once changesets followed by 0..3 runOnChange ones, and returns the changelog order of
// the changeset ids.
func randomLiquibase(r *rand.Rand) (fstest.MapFS, []string) {
	fsys := fstest.MapFS{}
	used := map[string]bool{}
	var files []string
	for n := 1 + r.IntN(6); len(files) < n; {
		name := fmt.Sprintf("%0*d_f.sql", 1+r.IntN(4), r.IntN(120))
		if raw := strings.TrimLeft(strings.SplitN(name, "_", 2)[0], "0"); used[raw] {
			continue // Liquibase versions equal as numbers would be refused
		} else {
			used[raw] = true
		}
		files = append(files, name)
	}
	sort.Strings(files)
	var order []string
	id := 0
	for _, f := range files {
		var b strings.Builder
		b.WriteString("--liquibase formatted sql\n")
		once, roc := r.IntN(4), r.IntN(4)
		if once+roc == 0 {
			once = 1
		}
		for k := 0; k < once+roc; k++ {
			id++
			attr := ""
			if k >= once {
				attr = " runOnChange:true"
			}
			fmt.Fprintf(&b, "--changeset a:%d%s\nSELECT %d;\n", id, attr, id)
			order = append(order, fmt.Sprintf("a:%d", id))
		}
		fsys[f] = &fstest.MapFile{Data: []byte(b.String())}
	}
	return fsys, order
}

func convertedNames(t *testing.T, fsys fstest.MapFS) []string {
	t.Helper()
	d, err := ReadFS(fsys, Options{Format: FormatLiquibase})
	require.NoError(t, err)
	var names []string
	for _, f := range d.Files {
		if f.Name != SumFile && f.Source != LedgerFile { // the change marker changes with any edit
			names = append(names, f.Name)
		}
	}
	return names
}

// changesetsInNameOrder reads the changeset ids of the converted files in byte order of names.
func changesetsInNameOrder(t *testing.T, fsys fstest.MapFS, names []string) []string {
	t.Helper()
	d, err := ReadFS(fsys, Options{Format: FormatLiquibase})
	require.NoError(t, err)
	data := map[string]string{}
	for _, f := range d.Files {
		data[f.Name] = string(f.Data)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	var out []string
	for _, n := range sorted {
		for _, line := range strings.Split(data[n], "\n") {
			if strings.HasPrefix(line, "--changeset ") {
				out = append(out, strings.Fields(line)[1])
			}
		}
	}
	return out
}
