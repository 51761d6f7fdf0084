// Package migdir reads, validates and converts migration directories into the flat in-memory
// directory the Atlas Operator reads from a ConfigMap.
//
// Read is the one entry point: it reads a directory of any supported tool, checks every file can
// be a ConfigMap key with UTF-8 content, validates atlas.sum exactly as `atlas migrate validate`
// does (or recomputes it with Options.Hash, or for a converted directory), and returns the
// files in the order atlas applies them. Nothing is written to disk.
package migdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"ariga.io/atlas/sql/migrate"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
)

// SumFile is the name of the integrity file.
const SumFile = migrate.HashFileName

// MaxConfigMapBytes is the API server's limit on a ConfigMap's data (keys plus values).
const MaxConfigMapBytes = 1 << 20

// Options tune Read.
type Options struct {
	Format string // one of Formats; "" detects
	Hash   bool   // (re)compute atlas.sum instead of validating it
}

// File is one file of the directory as the operator sees it (flat name, raw bytes).
type File struct {
	Name string
	Data []byte
	// Source is the file it came from, relative to the directory: the same as Name in atlas
	// format, the original tool's file after a conversion. Diagnostics point at it.
	Source string
	// src is the original content of Source (for file:line of diagnostics after a conversion).
	src []byte
	// Rerun marks a file the source tool runs again when it is edited (a Flyway repeatable, a
	// Liquibase runOnChange changeset): its version carries a checksum of its content, so an
	// edit is a new pending version for atlas, which sorts below versions already applied.
	Rerun bool
	// key is what the rerun ledger calls a Rerun file (rerunKey).
	key string
}

// Dir is a validated migration directory in atlas format.
type Dir struct {
	Path  string
	Files []File // the *.sql files in apply order, then atlas.sum
	// Format is the format the directory was read as.
	Format string
	// Rehashed is true when atlas.sum was computed here (Options.Hash or a conversion) rather
	// than read and validated.
	Rehashed bool
	// Ignored lists entries of the directory that are not part of the migration directory
	// (subdirectories, non-SQL files, down migrations), for the user's information.
	Ignored []string
	// Warnings are things the user should know that do not stop the directory from being
	// used (a removed byte order mark, a reference to the old tool's tracking table).
	Warnings []Warning
	// Ledger is the content the rerun ledger (LedgerFile, in the source directory) must have for
	// the names of this read; nil when the directory has neither files that run again when
	// edited nor a ledger. LedgerNew are the entries the file on disk lacks: init and configmap
	// write Ledger, read-only callers refuse (CheckLedger). ledger.go says why.
	Ledger      []byte
	LedgerNew   []LedgerEntry
	ledgerFound bool
}

// Warning is a remark about one file (severity Warning); Line is 1-based, 0 for the whole file.
type Warning = diag.Diagnostic

// Read reads and validates the directory at path.
func Read(dir string, opts Options) (*Dir, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("migration directory %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("migration directory %s: %w", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a directory: pass the folder that holds the migration files (and atlas.sum)", dir)
	}
	d, err := ReadFS(os.DirFS(dir), opts)
	if err != nil {
		return nil, prefixPath(dir, err)
	}
	d.Path = dir
	return d, nil
}

// ReadFS is Read on a file system whose root is the migration directory. Errors name files
// relative to that root.
func ReadFS(fsys fs.FS, opts Options) (*Dir, error) {
	format := opts.Format
	if format == "" {
		var err error
		if format, err = Detect(fsys); err != nil {
			return nil, err
		}
	}
	var (
		d   *Dir
		err error
	)
	switch f := lookup(format); {
	case format == FormatAtlas:
		d, err = readAtlas(fsys, opts.Hash)
	case f != nil:
		d, err = convert(fsys, f)
	default:
		return nil, fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		if opts.Format != "" {
			err = withFormatHint(fsys, format, err)
		}
		return nil, err
	}
	d.Format = format
	return d, nil
}

// withFormatHint adds which format the directory looks like to an error of a format given
// explicitly, when it looks like another one.
func withFormatHint(fsys fs.FS, format string, err error) error {
	looks, derr := Detect(fsys)
	var wf *WrongFormatError
	if derr != nil || looks == format || errors.As(err, &wf) {
		return err
	}
	if looks == FormatAtlas {
		if _, serr := fs.Stat(fsys, SumFile); serr != nil {
			return err // nothing marks it as atlas either
		}
	}
	return &WrongFormatError{Err: err, Looks: looks}
}

// pathError carries a file name relative to the directory, so Read can prefix the directory.
type pathError struct {
	file string
	msg  string
}

func (e *pathError) Error() string { return e.file + ": " + e.msg }

func fileErrorf(file, format string, args ...any) error {
	return &pathError{file: file, msg: fmt.Sprintf(format, args...)}
}

func prefixPath(dir string, err error) error {
	if e, ok := withDir(dir, err); ok {
		return e
	}
	return fmt.Errorf("%s: %w", dir, err)
}

func filepathToSlash(p string) string { return strings.ReplaceAll(p, string(os.PathSeparator), "/") }

// readFile reads one file and checks that it can be a ConfigMap entry.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	if !simpleKey(name) {
		if errs := validation.IsConfigMapKey(path.Base(name)); len(errs) > 0 {
			return nil, fileErrorf(name, "file name is not a valid ConfigMap key (%s): rename it using only letters, digits, '-', '_' and '.'", strings.Join(errs, "; "))
		}
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fileErrorf(name, "%v", unwrapPathErr(err))
	}
	if err := checkText(name, b); err != nil {
		return nil, err
	}
	return b, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckText is the text check of Read, for single files (schema files).
func CheckText(name string, b []byte) error { return checkText(name, b) }

// Printable reports whether YAML can carry r (YAML's printable set: tab, LF, CR, U+0020-U+007E,
// U+0085, U+00A0-U+D7FF, U+E000-U+FFFD and above U+FFFF). kubectl, kustomize and Argo CD read
// manifests with YAML parsers that refuse anything else, escaped or not.
func Printable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) || r == 0x85 ||
		(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}

// checkPrintable names the first character of valid UTF-8 text b that YAML cannot carry.
func checkPrintable(name string, b []byte) error {
	line := 1
	for _, r := range string(b) {
		if r == '\n' {
			line++
		}
		if !Printable(r) {
			return fileErrorf(name, "line %d: control character U+%04X: a YAML manifest (and so a ConfigMap) cannot carry it; remove it and rehash atlas.sum", line, r)
		}
	}
	return nil
}

// simpleKey is the common case of a valid ConfigMap key, checked without a regular expression
// (hundreds of files are read on every run).
func simpleKey(k string) bool {
	if k == "" || k == "." || k == ".." || len(k) > validation.DNS1123SubdomainMaxLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkText rejects content the operator could not round-trip: ConfigMap data is UTF-8 text
// (binaryData, which could hold anything, is ignored by the operator), and a manifest is YAML,
// which cannot carry characters outside its printable set (Printable).
func checkText(name string, b []byte) error {
	if utf8.Valid(b) {
		return checkPrintable(name, b)
	}
	line, off := 1, 0
	for off < len(b) {
		r, size := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		if r == '\n' {
			line++
		}
		off += size
	}
	return fileErrorf(name, "line %d: not valid UTF-8 (byte 0x%02x at offset %d): ConfigMap data must be UTF-8 text; re-encode the file (e.g. `iconv -f latin1 -t utf-8`) and rehash atlas.sum", line, b[off], off)
}

// sqlFiles wraps the migration files as atlas files, for hashing.
func (d *Dir) sqlFiles() []migrate.File {
	out := make([]migrate.File, 0, len(d.Files))
	for _, f := range d.Files {
		if f.Name != SumFile {
			out = append(out, migrate.NewLocalFile(f.Name, f.Data))
		}
	}
	return out
}

func (d *Dir) appendSum(files []migrate.File) error {
	hf, err := migrate.NewHashFile(files)
	if err != nil {
		return err
	}
	b, err := hf.MarshalText()
	if err != nil {
		return err
	}
	d.Files = append(d.Files, File{Name: SumFile, Data: b, Source: SumFile, src: b})
	return nil
}

// Versions lists the migration versions in the order atlas applies them.
func (d *Dir) Versions() []string {
	var vs []string
	for _, f := range d.Files {
		if f.Name == SumFile {
			continue
		}
		vs = append(vs, migrate.NewLocalFile(f.Name, nil).Version())
	}
	return vs
}

// LatestVersion is the newest migration version ("" for an empty directory).
func (d *Dir) LatestVersion() string {
	vs := d.Versions()
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// Size is the size Kubernetes counts against a ConfigMap's limit: keys plus values.
func (d *Dir) Size() int {
	n := 0
	for _, f := range d.Files {
		n += len(f.Name) + len(f.Data)
	}
	return n
}

// CheckSize fails when the directory cannot fit one ConfigMap, listing the largest files and
// what to do about it.
func (d *Dir) CheckSize() error {
	size := d.Size()
	if size <= MaxConfigMapBytes {
		return nil
	}
	files := append([]File(nil), d.Files...)
	sort.SliceStable(files, func(i, j int) bool { return len(files[i].Data) > len(files[j].Data) })
	if len(files) > 5 {
		files = files[:5]
	}
	var top []string
	for _, f := range files {
		top = append(top, fmt.Sprintf("%s (%s)", f.Name, kib(len(f.Data))))
	}
	return &TooLargeError{Size: size, Largest: top}
}

func kib(n int) string {
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}
