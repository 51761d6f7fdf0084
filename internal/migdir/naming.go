package migdir

import (
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
//   - Flyway repeatables (R__) run after every versioned file, ordered by description: their
//     version is 'z' (after every length letter) followed by the description's UTF-8 bytes as
//     lowercase-letter hex ('a' = 0 ... 'p' = 15), which orders like the description itself.
//   - dbmate and Liquibase (includeAll) order files by name: the version is kept as written, so
//     the atlas names sort as the source names did.

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

// encodeRepeatable is the version of a Flyway repeatable with this description.
func encodeRepeatable(desc string) string {
	b := make([]byte, 0, 1+2*len(desc))
	b = append(b, 'z')
	for i := 0; i < len(desc); i++ {
		b = append(b, 'a'+desc[i]>>4, 'a'+desc[i]&0xf)
	}
	return string(b)
}

// flywayDescription is the description Flyway shows and orders repeatables by: the file
// name's part after "__", underscores as spaces.
func flywayDescription(desc string) string { return strings.ReplaceAll(desc, "_", " ") }

// atlasVersion is the version of the converted file of s.
func atlasVersion(s *source, format string) string {
	switch {
	case s.kind == 'R':
		return encodeRepeatable(flywayDescription(s.desc))
	case format == FormatFlyway:
		return encodeParts(s.version)
	case format == FormatDBMate || format == FormatLiquibase:
		return s.raw
	default:
		return encodeNumber(s.version[0])
	}
}
