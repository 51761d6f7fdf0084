package migdir

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Converted file names are a pure function of the file's own version, never of the other files
// (a directory that grows from 99 to 100 files keeps every earlier name), and atlas's order of
// file names (byte order, migrate.LocalDir) is the source tool's order:
//
//   - golang-migrate and goose order versions as numbers. A number is written as one lowercase
//     letter giving its count of digits ('a' = 1 ... 't' = 20, the most an uint64 has) followed
//     by its digits without leading zeros: 1 -> a1, 10 -> b10, 00042 -> b42,
//     20240101120000 -> n20240101120000. Fewer digits sort first, so byte order is numeric order.
//   - Flyway versions are dotted numbers compared part by part, missing parts as 0
//     (1 = 1.0 < 1.1 < 1.2 < 2 < 10): trailing zero parts are dropped and each remaining part is
//     written as above, concatenated: 1 -> a1, 1.1 -> a1a1, 2.0.1 -> a2a0a1. A version that
//     extends another continues with a lowercase letter, which sorts after the '_' that ends the
//     shorter version in its file name, so names sort exactly as versions do.
//   - Flyway repeatables (R__) run after every versioned file, ordered by description, and run
//     again whenever their checksum changes: their version is 'z' (after every length letter),
//     the description's UTF-8 bytes as lowercase-letter hex ('a' = 0 ... 'p' = 15), which orders
//     like the description itself, then '-' and Flyway's own checksum of the file as 8 hex
//     digits. An edit is therefore a new version, pending for atlas, and the old one's revision
//     simply stays behind; '-' sorts before every letter, so a description that is a prefix of
//     another still sorts first.
//   - dbmate and Liquibase (includeAll) order files by name: the version is kept as written, so
//     the atlas names sort as the source names did.
//   - A Liquibase runOnChange changeset becomes a file of its own (liquibase.go): the file's
//     version, the j-th such changeset's number written as above, '-' and a checksum of the
//     changeset (001 -> 001a1-<checksum>). Versions of Liquibase files are digits, so this
//     sorts after the file's other changesets (001_...) and before any other file's.

// digitLetters holds the length letter of a number of 1..20 digits.
const digitLetters = "abcdefghijklmnopqrst"

// encodeNumber writes n as its length letter and digits.
func encodeNumber(n uint64) string {
	d := strconv.FormatUint(n, 10)
	return string(digitLetters[len(d)-1]) + d
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

// encodeRepeatable is the version of a Flyway repeatable with this description and checksum.
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

// atlasVersion is the version of the converted file of s.
func atlasVersion(s *source, format string) string {
	switch {
	case s.part != nil:
		return s.part.version
	case s.kind == 'R':
		return encodeRepeatable(flywayDescription(s.desc), flywayChecksum(s.data))
	case format == FormatFlyway:
		return encodeParts(s.version)
	case format == FormatDBMate || format == FormatLiquibase:
		return s.raw
	default:
		return encodeNumber(s.version[0])
	}
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

// baselineHints say where each tool records the last version it applied.
var baselineHints = map[string]string{
	FormatGolangMigrate: "`SELECT version FROM schema_migrations`",
	FormatGoose:         "`SELECT max(version_id) FROM goose_db_version WHERE is_applied`",
	FormatFlyway:        "`SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1`",
	FormatDBMate:        "`SELECT max(version) FROM schema_migrations`",
	FormatLiquibase:     "the number of the last file whose changesets are all in databasechangelog",
	FormatAtlas:         "as atlas migrate status shows it",
}

// BaselineVersion maps a version as the source tool names it (golang-migrate or goose 42,
// Flyway 1.1, dbmate 20240101000000, an atlas version) to the version of its converted file,
// for AtlasMigration spec.baseline: atlas then starts after that file on a database the old
// tool already migrated.
func (d *Dir) BaselineVersion(v string) (string, error) {
	atlasV := v
	switch d.Format {
	case FormatGolangMigrate, FormatGoose:
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			atlasV = encodeNumber(n)
		}
	case FormatFlyway:
		if reFlywayVer.MatchString(v) {
			var parts []uint64
			for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' }) {
				n, err := strconv.ParseUint(p, 10, 64)
				if err != nil {
					parts = nil
					break
				}
				parts = append(parts, n)
			}
			if parts != nil {
				atlasV = encodeParts(parts)
			}
		}
	}
	for _, have := range d.Versions() {
		if have == atlasV {
			return atlasV, nil
		}
	}
	return "", &BaselineError{Version: v, Atlas: atlasV, Format: d.Format, Newest: d.LatestVersion(), Hint: baselineHints[d.Format]}
}

// HasRepeatables reports files that run again when edited (Flyway repeatables, Liquibase
// runOnChange changesets): their new versions sort below versions already applied, and so do
// versioned files added after a Flyway repeatable ran, so atlas must apply files out of order
// (AtlasMigration spec.execOrder: non-linear), as the source tool does.
func (d *Dir) HasRepeatables() bool {
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
	if d.Format == FormatLiquibase {
		return "its runOnChange changesets run again when edited, as a new version that sorts below versions already applied"
	}
	return "its Flyway repeatables (R__) run again when edited, as a new version, and sort after every versioned file, so an edited repeatable or a versioned file added later sorts below versions already applied"
}

// RerunCaveat says, for a directory with files that run again when edited, what the Atlas
// Operator does with them: it decides that there is work from `atlas migrate status`, which
// ignores execOrder, and it reads the revision row an edit leaves behind as a database ahead
// of the directory. Users must hear it before they rely on it; "" when HasRepeatables is false.
func (d *Dir) RerunCaveat() string {
	if !d.HasRepeatables() {
		return ""
	}
	return "with the Atlas Operator, such a change is applied only when one of its new files sorts after every applied version, and an edit leaves the old version's revision row, which the operator later reads as a database ahead of the directory (Degraded: migrate down is not allowed); see docs/init.md, \"With the Atlas Operator\""
}
