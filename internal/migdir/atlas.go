package migdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatAtlas is atlas's own directory: top-level *.sql files applied in name order and
// atlas.sum. It is what every other format converts to, so it is read as it is: its files are
// kept byte for byte and atlas.sum is validated (or recomputed with Options.Hash), never
// written anew.
const FormatAtlas = "atlas"

// atlasAbout is what the atlas format tells of itself (its versions are atlas's already).
var atlasAbout = about{name: FormatAtlas, title: "atlas", baselineHint: "as atlas migrate status shows it"}

// readAtlas reads an atlas-format directory: top-level *.sql files sorted by name, atlas.sum.
func readAtlas(fsys fs.FS, rehash bool) (*Dir, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the migration directory: %w", err)
	}
	d := &Dir{}
	var sum []byte
	hasSum := false
	for _, e := range entries { // ReadDir sorts by name: apply order
		name := e.Name()
		switch {
		case e.IsDir():
			d.Ignored = append(d.Ignored, name+"/")
			continue
		case name == SumFile:
			if sum, err = readFile(fsys, name); err != nil {
				return nil, err
			}
			hasSum = true
			continue
		case !strings.HasSuffix(name, ".sql"):
			d.Ignored = append(d.Ignored, name)
			continue
		}
		if strings.HasSuffix(name, ".down.sql") {
			return nil, &WrongFormatError{Looks: FormatGolangMigrate,
				Err: fileErrorf(name, "a down migration in an atlas directory: atlas would run it as a migration, so move the down files out of the directory")}
		}
		b, err := readFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if line := templateLine(b); line > 0 {
			return nil, fileErrorf(name, "line %d: uses a template ({{ ... }}): templates are not supported by the operator's ConfigMap directories; render the directory first (e.g. `atlas migrate diff` output, or your own template step) and pack the result", line)
		}
		if bytes.HasPrefix(b, utf8BOM) {
			d.Warnings = append(d.Warnings, Warning{File: name, Line: 1, Message: "starts with a UTF-8 byte order mark, which atlas sends to the database as part of the first statement: save the file without it and run `atlas migrate hash`"})
		}
		d.Files = append(d.Files, File{Name: name, Data: b, Source: name, src: b})
	}
	if len(d.Files) == 0 {
		return nil, emptyError(d.Ignored)
	}
	files := d.sqlFiles()
	if rehash {
		d.Rehashed = true
		return d, d.appendSum(files)
	}
	if !hasSum {
		return nil, &SumError{File: SumFile, Reason: SumMissing}
	}
	if err := validateSum(files, sum); err != nil {
		if onlyLineEndings(files, sum) {
			var se *SumError
			if errors.As(err, &se) {
				return nil, fileErrorf(se.File, "only line endings changed (CRLF instead of LF, or a byte order mark): your checkout converts them, so the file no longer matches atlas.sum. Check the files out unchanged (`*.sql -text` and `atlas.sum -text` in .gitattributes, or git config core.autocrlf false) and check out again")
			}
		}
		return nil, err
	}
	d.Files = append(d.Files, File{Name: SumFile, Data: sum, Source: SumFile, src: sum})
	return d, nil
}

// validateSum compares atlas.sum with the files, with the atlas CLI's rules and wording.
func validateSum(files []migrate.File, sum []byte) error {
	err := migrate.Validate(memDir(files, sum))
	if err == nil {
		return nil
	}
	var ce *migrate.ChecksumError
	switch {
	case errors.As(err, &ce):
		reason := SumFileEdited
		switch ce.Reason {
		case migrate.ReasonAdded:
			reason = SumFileAdded
		case migrate.ReasonRemoved:
			reason = SumFileRemoved
		}
		return &SumError{File: ce.File, Reason: reason, Line: ce.Line}
	case errors.Is(err, migrate.ErrChecksumFormat):
		return &SumError{File: SumFile, Reason: SumMalformed}
	case errors.Is(err, migrate.ErrChecksumMismatch):
		return &SumError{File: SumFile, Reason: SumTotalMismatch}
	}
	return fileErrorf(SumFile, "%v", err)
}

var reTemplate = lazyRegexp(`\{\{-?\s*(?:\.|\$|template\b|define\b|block\b|if\b|range\b|with\b|end\b)`)

// templateLine is the 1-based line of the first Go template action in b, 0 when none.
func templateLine(b []byte) int {
	loc := reTemplate().FindIndex(b)
	if loc == nil {
		return 0
	}
	return 1 + bytes.Count(b[:loc[0]], []byte("\n"))
}

// onlyLineEndings reports whether the files match atlas.sum once CRLF line endings and byte
// order marks are undone: what a Git checkout with autocrlf (or an editor) does to them.
func onlyLineEndings(files []migrate.File, sum []byte) bool {
	norm := func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.TrimPrefix(b, utf8BOM), []byte("\r\n"), []byte("\n"))
	}
	changed := !bytes.Equal(norm(sum), sum)
	out := make([]migrate.File, len(files))
	for i, f := range files {
		n := norm(f.Bytes())
		changed = changed || !bytes.Equal(n, f.Bytes())
		out[i] = migrate.NewLocalFile(f.Name(), n)
	}
	return changed && migrate.Validate(memDir(out, norm(sum))) == nil
}

// memDir is atlas's in-memory migrate.Dir holding files already read (and atlas.sum, if any),
// for migrate.Validate; like atlas's local directory it lists the *.sql files by name.
func memDir(files []migrate.File, sum []byte) *migrate.MemDir {
	d := &migrate.MemDir{}
	for _, f := range files {
		_ = d.WriteFile(f.Name(), f.Bytes()) // a MemDir write cannot fail
	}
	if sum != nil {
		_ = d.WriteFile(SumFile, sum)
	}
	return d
}
