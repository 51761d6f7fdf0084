package migdir

import (
	"fmt"
	"strconv"
	"strings"
)

// Converted file names are a pure function of the file's own version, never of the other files
// (a directory that grows from 99 to 100 files keeps every earlier name), and atlas's order of
// file names (byte order, migrate.LocalDir) is the source tool's order. Each format's version
// method says how (flyway.go and liquibase.go in their doc comments); the common piece is how a
// number is written: one lowercase letter giving its count of digits ('a' = 1 ... 't' = 20, the
// most an uint64 has) followed by its digits without leading zeros: 1 -> a1, 10 -> b10,
// 00042 -> b42, 20240101120000 -> n20240101120000. Fewer digits sort first, so byte order is
// numeric order (golang-migrate and goose versions). dbmate and Liquibase order files by name:
// their versions are kept as written, so the atlas names sort as the source names did.

// digitLetters holds the length letter of a number of 1..20 digits.
const digitLetters = "abcdefghijklmnopqrst"

// encodeNumber writes n as its length letter and digits.
func encodeNumber(n uint64) string {
	d := strconv.FormatUint(n, 10)
	return string(digitLetters[len(d)-1]) + d
}

// decodeNumber reads what encodeNumber wrote; ok is false for anything else.
func decodeNumber(s string) (n uint64, ok bool) {
	if len(s) < 2 || strings.IndexByte(digitLetters, s[0]) != len(s)-2 || s[1] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 64)
	return n, err == nil
}

// encodeParts writes a (Flyway) dotted version; trailing zero parts carry no order.
func encodeParts(v []uint64) string {
	for len(v) > 1 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	var b strings.Builder
	for _, n := range v {
		b.WriteString(encodeNumber(n))
	}
	return b.String()
}

// BaselineError is a baseline version the directory does not hold.
type BaselineError struct {
	Version, Atlas, Format, Newest, Hint string
}

func (e *BaselineError) Error() string {
	msg := fmt.Sprintf("baseline version %s", e.Version)
	if e.Atlas != e.Version {
		msg += fmt.Sprintf(" (atlas version %s)", e.Atlas)
	}
	msg += fmt.Sprintf(" is not a migration of the directory (the newest is %s): give the version of the last migration %s applied", e.Newest, e.Format)
	if e.Hint != "" {
		msg += ", " + e.Hint
	}
	return msg
}

// BaselineVersion maps a version as the source tool names it (golang-migrate or goose 42,
// Flyway 1.1, dbmate 20240101000000, an atlas version) to the version of its converted file,
// for AtlasMigration spec.baseline: atlas then starts after that file on a database the old
// tool already migrated.
func (d *Dir) BaselineVersion(v string) (string, error) {
	atlasV := v
	if f := lookup(d.Format); f != nil {
		atlasV = f.baseline(v)
	}
	for _, have := range d.Versions() {
		if have == atlasV {
			return atlasV, nil
		}
	}
	hint := ""
	if a := aboutFormat(d.Format); a != nil {
		hint = a.baselineHint
	}
	return "", &BaselineError{Version: v, Atlas: atlasV, Format: d.Format, Newest: d.LatestVersion(), Hint: hint}
}

// HasRepeatables reports files that run again when edited (Flyway repeatables, Liquibase
// runOnChange changesets): their new versions sort below versions already applied, and so do
// versioned files added after a Flyway repeatable ran, so atlas must apply files out of order
// (AtlasMigration spec.execOrder: non-linear), as the source tool does.
func (d *Dir) HasRepeatables() bool {
	if d.Ledger != nil {
		return true // placeholders of files that ran again, even if none is left
	}
	for _, f := range d.Files {
		if f.Rerun {
			return true
		}
	}
	return false
}

// NonLinearReason says why the AtlasMigration reading this directory needs spec.execOrder:
// non-linear, in words for the user; "" when it does not (HasRepeatables is false).
func (d *Dir) NonLinearReason() string {
	if !d.HasRepeatables() {
		return ""
	}
	if a := aboutFormat(d.Format); a != nil && a.rerun != "" {
		return a.rerun
	}
	return flyway.rerun
}

// RerunCaveat says, for a directory with files that run again when edited, what the user must
// keep for the Atlas Operator to apply every change; "" when HasRepeatables is false.
func (d *Dir) RerunCaveat() string {
	if !d.HasRepeatables() {
		return ""
	}
	return "commit " + LedgerFile + " with the migrations: it keeps their earlier versions (as placeholder files) and numbers the change marker that lets the Atlas Operator see every change (docs/init.md, \"Files that run again when edited\")"
}

// Kept counts the files the ledger adds: placeholders of earlier versions and the change marker.
func (d *Dir) Kept() int {
	n := 0
	for _, f := range d.Files {
		if f.Source == LedgerFile {
			n++
		}
	}
	return n
}

// RerunVersion is what a converted version of a file that runs again when edited says about
// it (the encodings of flyway.go and liquibase.go, read back).
type RerunVersion struct {
	// Repeatable is a Flyway repeatable (R__<description>.sql); otherwise a Liquibase
	// runOnChange changeset.
	Repeatable bool
	// Base is what orders the file: the repeatable's description, or the changeset's file
	// version and number.
	Base string
	// Checksum is the content checksum in the version (8 hex digits): an edit changes it.
	Checksum string
}

// ParseRerunVersion reads a version written for a file that runs again when edited
// (Flyway repeatable: 'z', the description as letter hex, '-', 8 hex digits; Liquibase
// runOnChange: the file's version and changeset number, '-', 8 hex digits). ok is false for
// every other version.
func ParseRerunVersion(v string) (r RerunVersion, ok bool) {
	base, sum, found := strings.Cut(v, "-")
	if !found || len(sum) != 8 || base == "" || strings.Trim(sum, "0123456789abcdef") != "" {
		return RerunVersion{}, false
	}
	r.Base, r.Checksum = base, sum
	if hex := base[1:]; base[0] == 'z' && len(hex) > 0 && len(hex)%2 == 0 && strings.Trim(hex, "abcdefghijklmnop") == "" {
		desc := make([]byte, len(hex)/2)
		for i := range desc {
			desc[i] = (hex[2*i]-'a')<<4 | (hex[2*i+1] - 'a')
		}
		r.Repeatable, r.Base = true, string(desc)
	}
	return r, true
}
