package migdir

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// writeDir creates a directory from name -> content; a content of nil makes a subdirectory.
func writeDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if b == nil {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	return dir
}

// withSum adds a correct atlas.sum for the *.sql files.
func withSum(t *testing.T, files map[string][]byte) map[string][]byte {
	t.Helper()
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ".sql") && !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var mf []migrate.File
	for _, n := range names {
		mf = append(mf, migrate.NewLocalFile(n, files[n]))
	}
	hf, err := migrate.NewHashFile(mf)
	require.NoError(t, err)
	b, err := hf.MarshalText()
	require.NoError(t, err)
	out := map[string][]byte{SumFile: b}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func TestReadAtlas(t *testing.T) {
	d, err := Read("testdata/atlas", Options{})
	require.NoError(t, err)
	assert.Equal(t, FormatAtlas, d.Format)
	assert.False(t, d.Rehashed)
	assert.Equal(t, []string{"20240101000000", "20240102000000", "20240103000000"}, d.Versions())
	assert.Equal(t, "20240103000000", d.LatestVersion())
	assert.Equal(t, []string{"README.md"}, d.Ignored)
	require.Len(t, d.Files, 4)
	assert.Equal(t, SumFile, d.Files[3].Name)
	onDisk, err := os.ReadFile("testdata/atlas/atlas.sum")
	require.NoError(t, err)
	assert.Equal(t, onDisk, d.Files[3].Data, "atlas.sum is packed as it is on disk")

	// --hash gives the same atlas.sum for an unchanged directory.
	h, err := Read("testdata/atlas", Options{Hash: true})
	require.NoError(t, err)
	assert.True(t, h.Rehashed)
	assert.Equal(t, d.Files, h.Files)
}

// TestReadBadInput covers every bad input: each is an error that names the file (or the
// directory) and the fix.
func TestReadBadInput(t *testing.T) {
	good := map[string][]byte{
		"1_a.sql": []byte("CREATE TABLE a (id int);\n"),
		"2_b.sql": []byte("CREATE TABLE b (id int);\n"),
	}
	edited := withSum(t, good)
	edited["2_b.sql"] = []byte("CREATE TABLE b (id bigint);\n")
	added := withSum(t, good)
	added["3_c.sql"] = []byte("CREATE TABLE c (id int);\n")
	removed := withSum(t, good)
	delete(removed, "2_b.sql")
	badHeader := withSum(t, good)
	badHeader[SumFile] = append([]byte("h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), bytes.SplitN(badHeader[SumFile], []byte("\n"), 2)[1]...)
	malformed := withSum(t, good)
	malformed[SumFile] = append(malformed[SumFile], []byte("garbage line\n")...)

	tests := []struct {
		name  string
		files map[string][]byte
		path  string // relative to the directory, instead of the directory itself
		opts  Options
		want  []string
	}{
		{name: "missing directory", path: "nope", want: []string{"nope does not exist"}},
		{name: "not a directory", files: good, path: "1_a.sql", want: []string{"1_a.sql is not a directory", "pass the folder"}},
		{name: "empty directory", files: map[string][]byte{}, want: []string{"no migration files (*.sql) found"}},
		{name: "only other files", files: map[string][]byte{"README.md": []byte("x"), "sub": nil}, want: []string{"no migration files", "README.md", "sub/"}},
		{name: "missing atlas.sum", files: good, want: []string{"atlas.sum: not found", "atlas migrate hash"}},
		{name: "edited file", files: edited, want: []string{"2_b.sql: was edited since atlas.sum was written", "line 3", "atlas migrate hash"}},
		{name: "added file", files: added, want: []string{"3_c.sql: was added since atlas.sum was written", "atlas.sum does not list it"}},
		{name: "removed file", files: removed, want: []string{"2_b.sql: was removed since atlas.sum was written", "line 3"}},
		{name: "corrupt total hash", files: badHeader, want: []string{"atlas.sum: line 1: the total hash does not match"}},
		{name: "malformed atlas.sum", files: malformed, want: []string{"atlas.sum: malformed"}},
		{name: "non-UTF-8", files: withSum(t, map[string][]byte{"1_a.sql": []byte("-- caf\xe9\nCREATE TABLE a (id int);\n")}), want: []string{"1_a.sql: line 1: not valid UTF-8 (byte 0xe9 at offset 6)", "iconv"}},
		{name: "control character", files: withSum(t, map[string][]byte{"1_a.sql": []byte("CREATE TABLE a (id int);\n-- \x7f\n")}), want: []string{"1_a.sql: line 2: control character U+007F", "cannot carry it"}},
		{name: "non-UTF-8 atlas.sum", files: map[string][]byte{"1_a.sql": []byte("SELECT 1;\n"), SumFile: []byte("h1:\xff\n")}, want: []string{"atlas.sum: line 1: not valid UTF-8"}},
		{name: "invalid key", files: map[string][]byte{"1 a.sql": []byte("SELECT 1;\n")}, want: []string{"1 a.sql: file name is not a valid ConfigMap key", "rename it"}},
		{name: "unknown format", files: good, opts: Options{Format: "sqitch"}, want: []string{`unknown format "sqitch"`, "golang-migrate"}},
		{name: "golang-migrate duplicate version", files: map[string][]byte{"1_a.up.sql": []byte("SELECT 1;"), "01_b.up.sql": []byte("SELECT 2;")}, opts: Options{Format: FormatGolangMigrate}, want: []string{"1_a.up.sql: has the same version as 01_b.up.sql"}},
		{name: "goose without up section", files: map[string][]byte{"1_a.sql": []byte("SELECT 1;\n")}, opts: Options{Format: FormatGoose}, want: []string{"1_a.sql: no `-- +goose Up` section"}},
		{name: "goose bad name", files: map[string][]byte{"init.sql": []byte("-- +goose Up\nSELECT 1;\n")}, opts: Options{Format: FormatGoose}, want: []string{"init.sql: not a goose migration file name"}},
		{name: "dbmate without up section", files: map[string][]byte{"20240101_a.sql": []byte("SELECT 1;\n")}, opts: Options{Format: FormatDBMate}, want: []string{"no `-- migrate:up` section"}},
		{name: "flyway bad version", files: map[string][]byte{"V1a__x.sql": []byte("SELECT 1;")}, opts: Options{Format: FormatFlyway}, want: []string{"V1a__x.sql: version \"1a\" is not a Flyway version"}},
		{name: "flyway duplicate version", files: map[string][]byte{"V1__x.sql": []byte("SELECT 1;"), "V1.0__y.sql": []byte("SELECT 2;")}, opts: Options{Format: FormatFlyway}, want: []string{"has the same version as"}},
		{name: "flyway empty", files: map[string][]byte{"init.sql": []byte("SELECT 1;")}, opts: Options{Format: FormatFlyway}, want: []string{"flyway migration files (V<version>__<name>.sql)", "no migration files"}},
		{name: "converted non-UTF-8", files: map[string][]byte{"1_a.up.sql": []byte("SELECT '\xff';")}, opts: Options{Format: FormatGolangMigrate}, want: []string{"1_a.up.sql: line 1: not valid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.files != nil {
				dir = writeDir(t, tt.files)
			}
			p := dir
			if tt.path != "" {
				p = filepath.Join(dir, tt.path)
			}
			d, err := Read(p, tt.opts)
			require.Error(t, err)
			assert.Nil(t, d)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotRegexp(t, `--[a-z]`, err.Error(), "a library error names no CLI flag: each entry point adds its own fix")
			if tt.path == "" && tt.files != nil && len(tt.files) > 0 {
				assert.Contains(t, err.Error(), dir, "the error names the directory")
			}
		})
	}
}

func TestSumIgnoreDirective(t *testing.T) {
	files := map[string][]byte{
		"1_a.sql": []byte("CREATE TABLE a (id int);\n"),
		"2_b.sql": []byte("-- atlas:sum ignore\nSELECT 1;\n"),
	}
	d, err := Read(writeDir(t, withSum(t, files)), Options{})
	require.NoError(t, err)
	assert.Len(t, d.Files, 3, "an ignored-by-sum file is still packed: the operator's atlas reads it")
}

func TestSize(t *testing.T) {
	big := strings.Repeat("-- padding padding padding padding padding padding padding padding\n", 9000) // ~610 KiB
	files := map[string][]byte{"1_a.sql": []byte(big), "2_b.sql": []byte(big), "3_c.sql": []byte("SELECT 1;\n")}
	d, err := Read(writeDir(t, withSum(t, files)), Options{})
	require.NoError(t, err, "Read does not judge the size; CheckSize does")
	assert.Greater(t, d.Size(), MaxConfigMapBytes)
	err = d.CheckSize()
	require.Error(t, err)
	for _, w := range []string{"past the 1 MiB a ConfigMap can hold", "Largest files: 1_a.sql (", "2_b.sql (", "atlas migrate checkpoint", "remote directory"} {
		assert.Contains(t, err.Error(), w)
	}
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, d.Size(), tl.Size)
	small, err := Read("testdata/atlas", Options{})
	require.NoError(t, err)
	assert.NoError(t, small.CheckSize())
}

func TestDetect(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			got, err := Detect(os.DirFS(filepath.Join("testdata", f)))
			require.NoError(t, err)
			assert.Equal(t, f, got)
		})
	}
}

// TestConvert converts every format's example, compares with golden files, and checks with
// atlas's own directory reader that the result validates and applies in the tool's order.
func TestConvert(t *testing.T) {
	wantVersions := map[string][]string{
		FormatAtlas:         {"20240101000000", "20240102000000", "20240103000000"},
		FormatGolangMigrate: {"a1", "a2", "b10"},
		FormatGoose:         {"a1", "a2", "a3"},
		FormatFlyway:        {"a1", "a1a1", "a2", "b10", "zhggjgfhhhd-635c0533", "zza2-ce59d91f"},
		FormatDBMate:        {"20240101000000", "20240102000000"},
		FormatLiquibase:     {"001", "001a1-7be3d057", "002", "zza2-40c21a58"},
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			d, err := Read(filepath.Join("testdata", format), Options{Format: format})
			require.NoError(t, err)
			assert.Equal(t, wantVersions[format], d.Versions())
			assert.Equal(t, format != FormatAtlas, d.Rehashed)

			var golden bytes.Buffer
			for _, f := range d.Files {
				fmt.Fprintf(&golden, "=== %s (from %s)\n%s", f.Name, f.Source, f.Data)
			}
			gpath := filepath.Join("testdata", "golden", format+".txt")
			if *update {
				require.NoError(t, os.WriteFile(gpath, golden.Bytes(), 0o644))
			}
			want, err := os.ReadFile(gpath)
			require.NoError(t, err, "run go test -update to create golden files")
			assert.Equal(t, string(want), golden.String())

			// Atlas's own reader: byte order of names == our apply order, and atlas.sum validates.
			out := map[string][]byte{}
			for _, f := range d.Files {
				out[f.Name] = f.Data
			}
			local, err := migrate.NewLocalDir(writeDir(t, out))
			require.NoError(t, err)
			require.NoError(t, migrate.Validate(local))
			files, err := local.Files()
			require.NoError(t, err)
			var order []string
			for _, f := range files {
				order = append(order, f.Version())
			}
			assert.Equal(t, d.Versions(), order)

			// Deterministic.
			again, err := Read(filepath.Join("testdata", format), Options{Format: format})
			require.NoError(t, err)
			assert.Equal(t, d.Files, again.Files)
		})
	}
}

func TestFlywayOrdering(t *testing.T) {
	files := map[string][]byte{
		"V1__a.sql":         []byte("SELECT 1;"),
		"V1.1__b.sql":       []byte("SELECT 2;"),
		"V1_2__c.sql":       []byte("SELECT 3;"),
		"V2__d.sql":         []byte("SELECT 4;"),
		"V10__e.sql":        []byte("SELECT 5;"),
		"V1.10__f.sql":      []byte("SELECT 6;"),
		"B1.2__base.sql":    []byte("SELECT 0;"),
		".hidden/V3__x.sql": []byte("SELECT 9;"),
	}
	d, err := Read(writeDir(t, files), Options{})
	require.NoError(t, err)
	assert.Equal(t, FormatFlyway, d.Format)
	var names []string
	for _, f := range d.Files[:len(d.Files)-1] {
		names = append(names, f.Name)
	}
	// The baseline 1.2 replaces 1, 1.1 and 1.2; 1.10 > 1.2 numerically; hidden folders are skipped.
	assert.Equal(t, []string{"a1a2_base.sql", "a1b10_f.sql", "a2_d.sql", "b10_e.sql"}, names)
	assert.True(t, sort.StringsAreSorted(names))
}

func TestGooseStatementBlocks(t *testing.T) {
	d, err := Read("testdata/goose", Options{})
	require.NoError(t, err)
	stmts, err := migrate.NewLocalFile(d.Files[1].Name, d.Files[1].Data).StmtDecls()
	require.NoError(t, err)
	require.Len(t, stmts, 2, "the StatementBegin/End block stays one statement")
	assert.Contains(t, stmts[0].Text, "RETURN i + 1;")
	assert.Contains(t, string(d.Files[2].Data), "-- atlas:txmode none", "NO TRANSACTION becomes txmode none")
}

func TestCustomDelimiterFallback(t *testing.T) {
	// A MySQL-style block: atlas's default splitter would cut it at the inner semicolon.
	src := "-- +goose Up\n-- +goose StatementBegin\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END\n-- +goose StatementEnd\n"
	d, err := Read(writeDir(t, map[string][]byte{"1_t.sql": []byte(src)}), Options{Format: FormatGoose})
	require.NoError(t, err)
	assert.Contains(t, string(d.Files[0].Data), "-- atlas:delimiter -- end")
	stmts, err := migrate.NewLocalFile(d.Files[0].Name, d.Files[0].Data).StmtDecls()
	require.NoError(t, err)
	require.Len(t, stmts, 1)
	assert.Contains(t, stmts[0].Text, "SET NEW.y = 2; END")
}

// The errors whose fix depends on the entry point are typed, and keep their type and the
// directory's path through Read.
func TestTypedErrors(t *testing.T) {
	good := map[string][]byte{"1_a.sql": []byte("CREATE TABLE a (id int);\n")}
	dir := writeDir(t, good)
	_, err := Read(dir, Options{})
	var se *SumError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, SumMissing, se.Reason)
	assert.Equal(t, filepath.ToSlash(filepath.Join(dir, SumFile)), se.File)

	edited := withSum(t, good)
	edited["1_a.sql"] = []byte("CREATE TABLE a (id bigint);\n")
	_, err = Read(writeDir(t, edited), Options{})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, SumFileEdited, se.Reason)
	assert.Equal(t, 2, se.Line)

	var ee *EmptyError
	_, err = Read(writeDir(t, map[string][]byte{"README.md": []byte("x")}), Options{})
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"README.md"}, ee.Ignored)
	_, err = Read(writeDir(t, map[string][]byte{"README.md": []byte("x")}), Options{Format: FormatGoose})
	require.ErrorAs(t, err, &ee, "converted formats too")
}

// WithRemedy adds the caller's words, keeps the error's type, and adds nothing it was not given.
func TestWithRemedy(t *testing.T) {
	sum := &SumError{File: SumFile, Reason: SumMissing}
	assert.Same(t, error(sum), WithRemedy(sum, Remedies{}))
	err := WithRemedy(sum, Remedies{SumMissing: "%w; fix it"})
	assert.Equal(t, sum.Error()+"; fix it", err.Error())
	assert.ErrorIs(t, err, sum)

	wrong := &WrongFormatError{Err: sum, Looks: FormatGoose}
	err = WithRemedy(wrong, Remedies{SumMissing: "%w; fix it", WrongFormat: "%w (use %[2]s)"})
	assert.Equal(t, sum.Error()+"; fix it (use goose)", err.Error(), "the inner error's remedy, then the format's")
	assert.Equal(t, wrong.Error(), WithRemedy(wrong, Remedies{}).Error())
}
