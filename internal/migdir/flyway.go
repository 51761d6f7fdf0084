package migdir

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatFlyway is Flyway's SQL directory, subfolders included: V<version>__<name>.sql
// (versioned), B<version>__<name>.sql (baseline) and R__<name>.sql (repeatable) migrations,
// with an optional script configuration <file>.conf beside each.
//
// Versions are dotted numbers compared part by part, missing parts as 0 (1 = 1.0 < 1.1 < 1.2 <
// 2 < 10): trailing zero parts are dropped and each remaining part is written as a number
// (naming.go), concatenated: 1 -> a1, 1.1 -> a1a1, 2.0.1 -> a2a0a1. A version that extends
// another continues with a lowercase letter, which sorts after the '_' that ends the shorter
// version in its file name, so names sort exactly as versions do.
//
// Repeatables run after every versioned file, ordered by description, and run again whenever
// their checksum changes: their version is 'z' (after every length letter), the description's
// UTF-8 bytes as lowercase-letter hex ('a' = 0 ... 'p' = 15), which orders like the
// description itself, then '-' and Flyway's own checksum of the file as 8 hex digits. An edit
// is therefore a new version, pending for atlas, and the old one's revision simply stays
// behind; '-' sorts before every letter, so a description that is a prefix of another still
// sorts first.
const FormatFlyway = "flyway"

var (
	flyway = &flywayFormat{about{
		name: FormatFlyway, title: "Flyway", files: "V<version>__<name>.sql",
		baselineHint: "`SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1`",
		tables:       []string{"flyway_schema_history"},
		rerun:        "its Flyway repeatables (R__) run again when edited, as a new version, and sort after every versioned file, so an edited repeatable or a versioned file added later sorts below versions already applied",
	}}
	reFlyway    = lazyRegexp(`^([VBR])(.*?)__(.*)\.sql$`)
	reFlywayVer = lazyRegexp(`^[0-9]+(?:[._][0-9]+)*$`)
	// PostgreSQL statements that refuse to run inside a transaction block; Flyway detects them
	// and runs the migration outside one.
	reNonTx = lazyRegexp(`(?is)^\s*(?:` +
		`CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b|DROP\s+INDEX\s+CONCURRENTLY\b|` +
		`REINDEX\b[^;]*\bCONCURRENTLY\b|REINDEX\s+(?:\(\s*[^)]*\)\s*)?(?:SYSTEM|DATABASE)\b|VACUUM\b|` +
		`ALTER\s+SYSTEM\b|(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE|SUBSCRIPTION)\b|` +
		`ALTER\s+TABLE\b[^;]*\bDETACH\s+PARTITION\b[^;]*\bCONCURRENTLY\b|DISCARD\s+ALL\b|CLUSTER\s*;?\s*$)`)
	reFlywayNoTxConf = lazyRegexp(`(?m)^\s*executeInTransaction\s*=\s*false\s*$`)
	reFlywayHolder   = lazyRegexp(`\$\{[^}\s]+\}`)
)

type flywayFormat struct{ about }

// flywayFile is Flyway's own of a source: its prefix (V, B or R) and script configuration.
type flywayFile struct {
	kind byte
	conf []byte
}

func flywayOf(s *source) flywayFile { f, _ := s.meta.(flywayFile); return f }

// detect: a Flyway file name anywhere in the tree.
func (flywayFormat) detect(fsys fs.FS, _ []string) bool {
	found := false
	_ = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && reFlyway().MatchString(e.Name()) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

func (flywayFormat) detectFile([]byte) bool { return false }

var (
	errNotFlywayVersion = errors.New("not a Flyway version")
	errVersionRange     = errors.New("out of range")
)

// flywayVersion parses a Flyway version: numbers separated by '.' or '_'.
func flywayVersion(v string) ([]uint64, error) {
	if !reFlywayVer().MatchString(v) {
		return nil, errNotFlywayVersion
	}
	var parts []uint64
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' }) {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, errVersionRange
		}
		parts = append(parts, n)
	}
	return parts, nil
}

// collect walks the directory (Flyway reads subfolders too, hidden ones excepted) for V
// (versioned), B (baseline) and R (repeatable) SQL migrations.
func (flywayFormat) collect(fsys fs.FS, d *Dir) ([]*source, error) {
	var srcs []*source
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != "." && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		m := reFlyway().FindStringSubmatch(e.Name())
		if m == nil {
			d.Ignored = append(d.Ignored, p)
			return nil
		}
		s := &source{path: p, raw: m[2], desc: m[3]}
		meta := flywayFile{kind: m[1][0]}
		if meta.kind == 'R' {
			if m[2] != "" {
				return fileErrorf(p, "a repeatable migration has no version: name it R__<name>.sql")
			}
			s.rerun = true
		} else {
			switch s.version, err = flywayVersion(m[2]); err {
			case errNotFlywayVersion:
				return fileErrorf(p, "version %q is not a Flyway version (numbers separated by '.' or '_')", m[2])
			case errVersionRange:
				return fileErrorf(p, "version %s is out of range", m[2])
			}
		}
		if s.data, err = readSource(fsys, p, d); err != nil {
			return err
		}
		if meta.conf, err = fs.ReadFile(fsys, p+".conf"); err != nil {
			meta.conf = nil
		}
		s.meta = meta
		srcs = append(srcs, s)
		return nil
	})
	if err != nil {
		var pe *pathError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the migration directory: %w", err)
	}
	// Script configurations (V1__x.sql.conf) are read with their migration, not left out.
	used := map[string]bool{}
	for _, s := range srcs {
		if flywayOf(s).conf != nil {
			used[s.path+".conf"] = true
		}
	}
	kept := d.Ignored[:0]
	for _, p := range d.Ignored {
		if !used[p] {
			kept = append(kept, p)
		}
	}
	d.Ignored = kept
	return srcs, nil
}

// order: dotted versions as numbers, then the repeatables by description; the newest baseline
// applied (dropping the versioned files it covers).
func (f *flywayFormat) order(srcs []*source) ([]*source, error) {
	sort.SliceStable(srcs, func(i, j int) bool { return flywaySourceLess(srcs[i], srcs[j]) })
	srcs = applyFlywayBaseline(srcs)
	return srcs, rejectDuplicates(srcs, f.name, func(a, b *source) bool {
		ka, kb := flywayOf(a).kind, flywayOf(b).kind
		if ka == 'R' || kb == 'R' {
			return ka == kb && flywayDescription(a.desc) == flywayDescription(b.desc)
		}
		return compareVersions(a.version, b.version) == 0
	})
}

func flywaySourceLess(a, b *source) bool {
	ka, kb := flywayOf(a).kind, flywayOf(b).kind
	if ka == 'R' || kb == 'R' {
		if ka != kb {
			return kb == 'R'
		}
		return flywayDescription(a.desc) < flywayDescription(b.desc)
	}
	return numberLess(a, b)
}

// applyFlywayBaseline keeps the newest B baseline and what comes after it, as Flyway does on
// a new database.
func applyFlywayBaseline(srcs []*source) []*source {
	baseline := -1
	for i, s := range srcs {
		if flywayOf(s).kind == 'B' {
			baseline = i
		}
	}
	if baseline < 0 {
		return srcs
	}
	bv := srcs[baseline].version
	kept := []*source{srcs[baseline]}
	for _, s := range srcs {
		if k := flywayOf(s).kind; k == 'R' || (k == 'V' && compareVersions(s.version, bv) > 0) {
			kept = append(kept, s)
		}
	}
	return kept
}

func (flywayFormat) version(s *source) string {
	if flywayOf(s).kind == 'R' {
		return encodeRepeatable(flywayDescription(s.desc), flywayChecksum(s.data))
	}
	return encodeParts(s.version)
}

func (flywayFormat) baseline(v string) string {
	if parts, err := flywayVersion(v); err == nil {
		return encodeParts(parts)
	}
	return v
}

// encodeRepeatable is the version of a repeatable with this description and checksum.
func encodeRepeatable(desc string, sum uint32) string {
	b := make([]byte, 0, 10+2*len(desc))
	b = append(b, 'z')
	for i := 0; i < len(desc); i++ {
		b = append(b, 'a'+desc[i]>>4, 'a'+desc[i]&0xf)
	}
	return fmt.Sprintf("%s-%08x", b, sum)
}

// flywayChecksum is the checksum Flyway records for a migration (flyway_schema_history.checksum,
// a signed 32-bit number there): CRC-32 of the file's lines without their line breaks, a byte
// order mark removed. Flyway re-runs a repeatable exactly when this number changes, so a
// version made of it changes exactly then too (and not when only line endings do).
func flywayChecksum(data []byte) uint32 {
	data = bytes.TrimPrefix(data, utf8BOM)
	h := crc32.NewIEEE()
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			i = len(data)
		}
		h.Write(data[:i])
		data = bytes.TrimLeft(data[i:], "\r\n")
	}
	return h.Sum32()
}

// flywayDescription is the description Flyway shows and orders repeatables by: the file
// name's part after "__", underscores as spaces.
func flywayDescription(desc string) string { return strings.ReplaceAll(desc, "_", " ") }

// statements: Flyway runs a migration in a transaction unless a statement cannot run in one
// (PostgreSQL's CREATE INDEX CONCURRENTLY, VACUUM, ...) or its script configuration says
// executeInTransaction=false.
func (flywayFormat) statements(s *source) ([]*migrate.Stmt, txChoice, error) {
	stmts, err := splitStatements(string(s.data))
	if err != nil {
		return nil, txChoice{}, err
	}
	if reFlywayNoTxConf().Match(flywayOf(s).conf) {
		return stmts, txChoice{none: true, why: "Flyway: executeInTransaction=false in " + pathBase(s.path) + ".conf"}, nil
	}
	var nonTx []string
	for _, st := range stmts {
		if m := reNonTx().FindString(st.Text); m != "" {
			nonTx = append(nonTx, strings.ToUpper(strings.Join(strings.Fields(m), " ")))
		}
	}
	if len(nonTx) == 0 {
		return stmts, txChoice{}, nil
	}
	tx := txChoice{none: true, why: fmt.Sprintf("Flyway runs this file outside a transaction: %s cannot run inside one", strings.TrimSuffix(nonTx[0], ";"))}
	if len(nonTx) < len(stmts) {
		tx.warn = "mixes statements that cannot run in a transaction with others: Flyway refuses such a file unless mixed=true; the converted file runs all of them without a transaction"
	}
	return stmts, tx, nil
}

func pathBase(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// warnings finds ${name} placeholders, which Flyway replaces when it runs a script and the
// converted file sends as written.
func (flywayFormat) warnings(s *source) []Warning {
	var out []Warning
	for i, line := range bytes.Split(s.data, []byte("\n")) {
		if m := reFlywayHolder().Find(line); m != nil {
			out = append(out, Warning{File: s.path, Line: i + 1, Message: fmt.Sprintf(
				"Flyway placeholder %s: Flyway replaces it when it runs the script; the converted file keeps it as written: put the value in", m)})
		}
	}
	return out
}
