// Package migdir reads, validates and converts migration directories into the flat in-memory
// directory the Atlas Operator reads from a ConfigMap.
package migdir

// TODO(issue 2): placeholder API until the reader lands; signatures are the contract other
// packages build against.

// Options tune Read.
type Options struct {
	Format string // atlas (default), golang-migrate, goose, flyway, dbmate, liquibase; "" detects
	Hash   bool   // (re)compute atlas.sum instead of validating it
}

// File is one file of the directory as the operator sees it (flat name, raw bytes).
type File struct {
	Name string
	Data []byte
}

// Dir is a validated migration directory in atlas format.
type Dir struct {
	Path  string
	Files []File // the *.sql files in apply order, then atlas.sum
}

// Read reads and validates the directory at path.
func Read(path string, opts Options) (*Dir, error) { return &Dir{Path: path}, nil }

// Versions lists the migration versions in the order atlas applies them.
func (d *Dir) Versions() []string { return nil }

// LatestVersion is the newest migration version ("" for an empty directory).
func (d *Dir) LatestVersion() string { return "" }
