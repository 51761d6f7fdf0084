package migdir

import (
	"bytes"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"ariga.io/atlas/sql/migrate"
	"k8s.io/apimachinery/pkg/util/validation"
)

// fuzzFS turns fuzz input into a directory: entries separated by "\x00\x00", each
// "name\x00content".
func fuzzFS(data []byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, entry := range bytes.Split(data, []byte("\x00\x00")) {
		name, content, _ := bytes.Cut(entry, []byte("\x00"))
		n := string(name)
		if n == "" || !fs.ValidPath(n) || n == "." {
			continue
		}
		fsys[n] = &fstest.MapFile{Data: content}
	}
	return fsys
}

func seedDirs(f *testing.F, format string) {
	f.Helper()
	dir := "testdata/" + format
	var buf bytes.Buffer
	err := fs.WalkDir(fsDir(dir), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsDir(dir), p)
		if err != nil {
			return err
		}
		buf.WriteString(p + "\x00")
		buf.Write(b)
		buf.WriteString("\x00\x00")
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
}

// checkDir asserts what every successfully read directory guarantees.
func checkDir(t *testing.T, d *Dir) {
	t.Helper()
	if len(d.Files) < 2 || d.Files[len(d.Files)-1].Name != SumFile {
		t.Fatalf("atlas.sum must come last after at least one migration: %v", d.Files)
	}
	var files []migrate.File
	names := map[string]bool{}
	for _, f := range d.Files {
		if errs := validation.IsConfigMapKey(f.Name); len(errs) > 0 {
			t.Fatalf("invalid key %q: %v", f.Name, errs)
		}
		if !utf8.Valid(f.Data) {
			t.Fatalf("%s is not UTF-8", f.Name)
		}
		if names[f.Name] {
			t.Fatalf("duplicate file %s", f.Name)
		}
		names[f.Name] = true
		if f.Name != SumFile {
			files = append(files, migrate.NewLocalFile(f.Name, f.Data))
		}
	}
	if len(d.Versions()) != len(d.Files)-1 {
		t.Fatalf("versions %v for %d files", d.Versions(), len(d.Files))
	}
	sorted := make([]string, 0, len(files))
	for _, f := range files {
		sorted = append(sorted, f.Name())
	}
	if !sort.StringsAreSorted(sorted) {
		t.Fatalf("file names are not in byte order, atlas would apply them differently: %v", sorted)
	}
	if err := validateSum(files, d.Files[len(d.Files)-1].Data); err != nil {
		t.Fatalf("the packed atlas.sum does not validate: %v", err)
	}
	_ = d.Destructive()
	_ = d.CheckSize()
}

func FuzzReadAtlas(f *testing.F) {
	seedDirs(f, FormatAtlas)
	f.Add([]byte("1_a.sql\x00SELECT 1;\x00\x00atlas.sum\x00h1:x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fuzzFS(data)
		for _, hash := range []bool{false, true} {
			d, err := ReadFS(fsys, Options{Format: FormatAtlas, Hash: hash})
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				continue
			}
			checkDir(t, d)
		}
	})
}

func fuzzConvert(f *testing.F, format string) {
	seedDirs(f, format)
	f.Add([]byte("V1__a.sql\x00SELECT 1;\x00\x00R__v.sql\x00SELECT 2;\x00\x00" + LedgerFile + "\x00# c\nzgc-00000000_v.sql 00000000 R__v.sql\nzzb10-0000000a_x.sql 0000000a (directory)\n"))
	f.Add([]byte("001_a.sql\x00--liquibase formatted sql\n--changeset a:1 runOnChange:true\nSELECT 1;\n\x00\x00" + LedgerFile + "\x00bad line\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fuzzFS(data)
		d, err := ReadFS(fsys, Options{Format: format})
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkDir(t, d)
		if d.Ledger == nil {
			return
		}
		// The ledger a read asks for is a fixed point: recorded, it asks for nothing more and
		// gives the same names.
		fsys[LedgerFile] = &fstest.MapFile{Data: d.Ledger}
		again, err := ReadFS(fsys, Options{Format: format})
		if err != nil {
			t.Fatalf("reading with the recorded ledger: %v", err)
		}
		if err := again.CheckLedger(); err != nil {
			t.Fatalf("the recorded ledger still lacks entries: %v", err)
		}
		if strings.Join(again.Versions(), " ") != strings.Join(d.Versions(), " ") {
			t.Fatalf("names changed once recorded: %v -> %v", d.Versions(), again.Versions())
		}
	})
}

func FuzzConvertGolangMigrate(f *testing.F) { fuzzConvert(f, FormatGolangMigrate) }
func FuzzConvertGoose(f *testing.F)         { fuzzConvert(f, FormatGoose) }
func FuzzConvertFlyway(f *testing.F)        { fuzzConvert(f, FormatFlyway) }
func FuzzConvertDBMate(f *testing.F)        { fuzzConvert(f, FormatDBMate) }
func FuzzConvertLiquibase(f *testing.F)     { fuzzConvert(f, FormatLiquibase) }

func FuzzDetect(f *testing.F) {
	seedDirs(f, FormatFlyway)
	seedDirs(f, FormatGoose)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fuzzFS(data)
		format, err := Detect(fsys)
		if err != nil {
			return
		}
		if d, err := ReadFS(fsys, Options{Format: format, Hash: true}); err == nil {
			checkDir(t, d)
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"DROP TABLE a;", "ALTER TABLE t DROP COLUMN c, DROP x;", "DROP SCHEMA s", "ALTER TABLE 'x DROP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range classify(s) {
			if d.Code == "" || d.Message == "" {
				t.Fatalf("incomplete diagnostic %+v", d)
			}
		}
	})
}

func fsDir(dir string) fs.FS { return os.DirFS(dir) }
