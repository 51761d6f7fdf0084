package migdir

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// The properties every conversion keeps, whatever the directory: converting a part of a
// directory gives the same names and contents as converting all of it for the files they share
// (names are a pure function of each file), and atlas's order (byte order of the names) is
// the source tool's order, computed here independently from the tools' documented rules.

// toolFile is a source file and its position in the tool's own order.
type toolFile struct {
	name, content string
}

func convertFiles(t testing.TB, format string, files []toolFile) map[string]File {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.name] = &fstest.MapFile{Data: []byte(f.content)}
	}
	d, err := ReadFS(fsys, Options{Format: format})
	require.NoError(t, err)
	out := map[string]File{}
	for _, f := range d.Files {
		if f.Name != SumFile && f.Source != LedgerFile { // the change marker is not a tool file
			out[f.Source] = f
		}
	}
	return out
}

// checkOrder: sorting the converted names by bytes gives the files in the tool's order.
func checkOrder(t testing.TB, converted map[string]File, toolOrder []string) {
	t.Helper()
	var names []string
	bySource := map[string]string{}
	for src, f := range converted {
		names = append(names, f.Name)
		bySource[f.Name] = src
	}
	sort.Strings(names)
	got := make([]string, len(names))
	for i, n := range names {
		got[i] = bySource[n]
	}
	require.Equal(t, toolOrder, got, "atlas's order must be the tool's order")
}

// checkPrefix: the files of part convert exactly as in whole.
func checkPrefix(t testing.TB, part, whole map[string]File) {
	t.Helper()
	for src, f := range part {
		w, ok := whole[src]
		require.True(t, ok, src)
		require.Equal(t, w.Name, f.Name, "%s is renamed when the directory grows", src)
		require.Equal(t, string(w.Data), string(f.Data), src)
	}
}

func numbered(format string, n int, name func(int) string) []toolFile {
	var out []toolFile
	for i := 1; i <= n; i++ {
		body := fmt.Sprintf("CREATE TABLE t%d (id int);\n", i)
		switch format {
		case FormatGoose:
			body = "-- +goose Up\n" + body + "-- +goose Down\nDROP TABLE t" + strconv.Itoa(i) + ";\n"
		case FormatDBMate:
			body = "-- migrate:up\n" + body
		case FormatLiquibase:
			body = "--liquibase formatted sql\n--changeset a:" + strconv.Itoa(i) + "\n" + body
		}
		out = append(out, toolFile{name: name(i), content: body})
	}
	return out
}

func sources(files []toolFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out
}

// TestNamesStableAcrossGrowth converts directories growing across 9 -> 10, 99 -> 100 and
// 999 -> 1000 files, for every numbered format and both unpadded and padded numbers.
func TestNamesStableAcrossGrowth(t *testing.T) {
	cases := []struct {
		format string
		name   func(int) string
	}{
		{FormatGolangMigrate, func(i int) string { return fmt.Sprintf("%d_step.up.sql", i) }},
		{FormatGolangMigrate, func(i int) string { return fmt.Sprintf("%d_step.up.sql", 20240101000000+i) }},
		{FormatGoose, func(i int) string { return fmt.Sprintf("%05d_step.sql", i) }},
		{FormatGoose, func(i int) string { return fmt.Sprintf("%d_step.sql", i) }},
		{FormatDBMate, func(i int) string { return fmt.Sprintf("%d_step.sql", 20240101000000+i) }},
		{FormatLiquibase, func(i int) string { return fmt.Sprintf("%04d_step.sql", i) }},
	}
	for _, c := range cases {
		t.Run(c.format+"/"+c.name(1), func(t *testing.T) {
			all := numbered(c.format, 1001, c.name)
			whole := convertFiles(t, c.format, all)
			checkOrder(t, whole, sources(all))
			for _, n := range []int{9, 10, 99, 100, 999, 1000} {
				checkPrefix(t, convertFiles(t, c.format, all[:n]), whole)
			}
		})
	}
}

// flywayLess is Flyway's documented order: versions part by part as numbers, missing parts
// as 0; repeatables after every versioned migration, by description (underscores as spaces).
func flywayLess(a, b string) bool {
	ra, rb := strings.HasPrefix(a, "R__"), strings.HasPrefix(b, "R__")
	if ra || rb {
		if ra != rb {
			return rb
		}
		da := strings.ReplaceAll(strings.TrimSuffix(a[3:], ".sql"), "_", " ")
		db := strings.ReplaceAll(strings.TrimSuffix(b[3:], ".sql"), "_", " ")
		return da < db
	}
	pa := strings.FieldsFunc(a[1:strings.Index(a, "__")], func(r rune) bool { return r == '.' || r == '_' })
	pb := strings.FieldsFunc(b[1:strings.Index(b, "__")], func(r rune) bool { return r == '.' || r == '_' })
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y uint64
		if i < len(pa) {
			x, _ = strconv.ParseUint(pa[i], 10, 64)
		}
		if i < len(pb) {
			y, _ = strconv.ParseUint(pb[i], 10, 64)
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// randomFlyway makes a Flyway directory of distinct multi-part versions and repeatables.
func randomFlyway(r *rand.Rand, n int) []toolFile {
	seen := map[string]bool{}
	var out []toolFile
	words := []string{"views", "views2", "a_b", "a-b", "a.b", "ab", "A", "z", "views_all", "x1"}
	for len(out) < n {
		var name string
		if r.IntN(6) == 0 {
			name = "R__" + words[r.IntN(len(words))] + strconv.Itoa(r.IntN(3)) + ".sql"
		} else {
			parts := make([]string, 1+r.IntN(4))
			for i := range parts {
				parts[i] = strconv.Itoa([]int{0, 1, 2, 9, 10, 11, 99, 100, 1000, 20240101}[r.IntN(10)])
			}
			v := strings.Join(parts, ".")
			name = "V" + v + "__m" + strconv.Itoa(len(out)) + ".sql"
			key := strings.TrimRight(strings.ReplaceAll(v, ".", " "), " 0") // 1.0 == 1
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, toolFile{name: name, content: "SELECT 1;\n"})
	}
	return out
}

// TestFlywayOrderProperty: random multi-part versions and repeatables, any subset converts as
// in the whole directory and atlas's order is Flyway's.
func TestFlywayOrderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 40; round++ {
		all := randomFlyway(r, 5+r.IntN(60))
		whole := convertFiles(t, FormatFlyway, all)
		want := sources(all)
		sort.SliceStable(want, func(i, j int) bool { return flywayLess(want[i], want[j]) })
		checkOrder(t, whole, want)
		var part []toolFile
		for _, f := range all {
			if r.IntN(2) == 0 {
				part = append(part, f)
			}
		}
		if len(part) > 0 {
			checkPrefix(t, convertFiles(t, FormatFlyway, part), whole)
		}
	}
}

// TestNumberOrderProperty: random golang-migrate and goose versions of any size.
func TestNumberOrderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 40; round++ {
		seen := map[uint64]bool{}
		var versions []uint64
		for len(versions) < 2+r.IntN(40) {
			v := r.Uint64() >> r.IntN(64)
			if !seen[v] {
				seen[v] = true
				versions = append(versions, v)
			}
		}
		for _, format := range []string{FormatGolangMigrate, FormatGoose} {
			var files []toolFile
			for _, v := range versions {
				name := fmt.Sprintf("%d_x.sql", v)
				body := "-- +goose Up\nSELECT 1;\n"
				if format == FormatGolangMigrate {
					name, body = fmt.Sprintf("%d_x.up.sql", v), "SELECT 1;\n"
				}
				files = append(files, toolFile{name: name, content: body})
			}
			whole := convertFiles(t, format, files)
			want := sources(files)
			sort.Slice(want, func(i, j int) bool {
				a, _ := strconv.ParseUint(strings.SplitN(want[i], "_", 2)[0], 10, 64)
				b, _ := strconv.ParseUint(strings.SplitN(want[j], "_", 2)[0], 10, 64)
				return a < b
			})
			checkOrder(t, whole, want)
			checkPrefix(t, convertFiles(t, format, files[:1+r.IntN(len(files))]), whole)
		}
	}
}

// FuzzFlywayNames: for any two Flyway versions (or repeatable descriptions), byte order of the
// converted file names is Flyway's order.
func FuzzFlywayNames(f *testing.F) {
	f.Add("1", "1.1", "a", "b")
	f.Add("1.1", "2", "views", "views2")
	f.Add("10", "9.9.9", "a b", "a-b")
	f.Add("2.0.1", "2", "x", "x.y")
	f.Fuzz(func(t *testing.T, va, vb, da, db string) {
		if strings.ContainsAny(va+vb+da+db, "/\\\x00") {
			return // not an input: file names, not paths
		}
		a, b := "V"+va+"__x.sql", "V"+vb+"__y.sql"
		ra, rb := "R__"+da+".sql", "R__"+db+".sql"
		for _, pair := range [][2]string{{a, b}, {ra, rb}, {a, rb}} {
			fsys := fstest.MapFS{pair[0]: {Data: []byte("SELECT 1;")}, pair[1]: {Data: []byte("SELECT 2;")}}
			d, err := ReadFS(fsys, Options{Format: FormatFlyway})
			if err != nil {
				continue // not Flyway versions, equal versions, invalid names
			}
			files := convertedBySource(d)
			if len(files) != 2 {
				continue
			}
			x, y := files[pair[0]], files[pair[1]]
			if flywayLess(pair[0], pair[1]) != (x < y) || flywayLess(pair[1], pair[0]) != (y < x) {
				t.Fatalf("%s -> %s and %s -> %s: byte order differs from Flyway's", pair[0], x, pair[1], y)
			}
		}
	})
}

// FuzzNumberNames: byte order of encoded numbers is numeric order.
func FuzzNumberNames(f *testing.F) {
	f.Add(uint64(9), uint64(10))
	f.Add(uint64(99), uint64(100))
	f.Add(uint64(20240101000000), uint64(1))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		x, y := encodeNumber(a)+"_a.sql", encodeNumber(b)+"_b.sql"
		if (a < b) != (x < y) && a != b {
			t.Fatalf("%d -> %s, %d -> %s", a, x, b, y)
		}
	})
}

func convertedBySource(d *Dir) map[string]string {
	out := map[string]string{}
	for _, f := range d.Files {
		if f.Name != SumFile && f.Source != LedgerFile {
			out[f.Source] = f.Name
		}
	}
	return out
}
