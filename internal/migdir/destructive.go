package migdir

import (
	"bytes"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
)

// Destructive-change codes, as atlas lint names them.
const (
	CodeDropSchema = "DS101"
	CodeDropTable  = "DS102"
	CodeDropColumn = "DS103"
)

// Diagnostic is a destructive statement found in a migration file (severity Warning, an atlas
// lint code); File is the file the user edits (the original tool's file after a conversion),
// Line 0 when the statement could not be located in it.
type Diagnostic = diag.Diagnostic

var (
	reDropSchema = lazyRegexp(`(?is)^\s*DROP\s+(?:SCHEMA|DATABASE)\s+(?:IF\s+EXISTS\s+)?([^\s;,]+)`)
	reDropTable  = lazyRegexp(`(?is)^\s*DROP\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?([^;]+?)\s*(?:CASCADE|RESTRICT)?\s*;?\s*$`)
	reAlterTable = lazyRegexp(`(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([^\s]+)`)
	reDropClause = lazyRegexp(`(?is)\bDROP\s+(COLUMN\s+)?(?:IF\s+EXISTS\s+)?([^\s,;()]+)`)
	// Words after DROP in ALTER TABLE that remove something other than a column.
	notColumn = map[string]bool{
		"CONSTRAINT": true, "INDEX": true, "KEY": true, "PRIMARY": true, "FOREIGN": true,
		"CHECK": true, "PARTITION": true, "DEFAULT": true, "NOT": true, "IDENTITY": true,
		"EXPRESSION": true, "UNIQUE": true, "FULLTEXT": true, "SPATIAL": true, "PERIOD": true,
		"SYSTEM": true, "TRIGGER": true, "ATTRIBUTE": true, "STATISTICS": true,
	}
)

// Destructive finds statements that drop a schema (DS101), a table (DS102) or a column
// (DS103). It is a statement-level heuristic: atlas lint computes the same checks by replaying
// the directory on a dev database, which this cannot do offline. A statement (or file) under
// `-- atlas:nolint` (optionally naming the code or "destructive") is skipped, as atlas lint does.
func (d *Dir) Destructive() []Diagnostic {
	var out []Diagnostic
	for _, f := range d.Files {
		// Every check needs a DROP: skip the statement split (the costly part) without one.
		if f.Name == SumFile || !containsDrop(f.Data) {
			continue
		}
		lf := migrate.NewLocalFile(f.Name, f.Data)
		stmts, err := lf.StmtDecls()
		if err != nil {
			continue
		}
		fileNolint := lf.Directive("nolint")
		src := f.src
		if src == nil {
			src = f.Data
		}
		cursor := 0
		for _, s := range stmts {
			line := 0
			if key := firstLine(s.Text); key != "" {
				if i := bytes.Index(src[cursor:], []byte(key)); i >= 0 {
					line = 1 + bytes.Count(src[:cursor+i], []byte("\n"))
					cursor += i + len(key)
				}
			}
			for _, diag := range classify(s.Text) {
				if suppressed(diag.Code, s.Directive("nolint")) || suppressed(diag.Code, fileNolint) {
					continue
				}
				diag.File, diag.Line = f.Source, line
				out = append(out, diag)
			}
		}
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// suppressed reports whether nolint directives cover code. A directive without arguments
// silences every check.
func suppressed(code string, directives []string) bool {
	for _, d := range directives {
		args := strings.Fields(d)
		if len(args) == 0 {
			return true
		}
		for _, a := range args {
			if strings.EqualFold(a, code) || strings.EqualFold(a, "destructive") {
				return true
			}
		}
	}
	return false
}

func classify(stmt string) []Diagnostic {
	if m := reDropSchema().FindStringSubmatch(stmt); m != nil {
		return []Diagnostic{{Severity: diag.Warning, Code: CodeDropSchema, Message: fmt.Sprintf("drops schema %s and every table in it", unquote(m[1]))}}
	}
	if m := reDropTable().FindStringSubmatch(stmt); m != nil {
		var out []Diagnostic
		for _, t := range strings.Split(m[1], ",") {
			out = append(out, Diagnostic{Severity: diag.Warning, Code: CodeDropTable, Message: fmt.Sprintf("drops table %s and its data", unquote(strings.TrimSpace(t)))})
		}
		return out
	}
	m := reAlterTable().FindStringSubmatchIndex(stmt)
	if m == nil {
		return nil
	}
	table := unquote(stmt[m[2]:m[3]])
	var out []Diagnostic
	for _, c := range reDropClause().FindAllStringSubmatch(stripStrings(stmt[m[1]:]), -1) {
		explicit, word := c[1] != "", c[2]
		if !explicit && notColumn[strings.ToUpper(word)] {
			continue
		}
		out = append(out, Diagnostic{Severity: diag.Warning, Code: CodeDropColumn, Message: fmt.Sprintf("drops column %s of table %s and its data", unquote(word), table)})
	}
	return out
}

// stripStrings blanks string literals so a DROP inside a default value or comment text is not
// taken for a clause.
func stripStrings(s string) string {
	b := []byte(s)
	in := byte(0)
	for i, c := range b {
		switch {
		case in == 0 && c == '\'':
			in = c
		case in != 0 && c == in:
			in = 0
		case in != 0:
			b[i] = ' '
		}
	}
	return string(b)
}

func unquote(s string) string {
	return strings.NewReplacer("`", "", `"`, "", "[", "", "]", "").Replace(s)
}

// containsDrop reports whether b holds the word drop in any case, without copying b.
func containsDrop(b []byte) bool {
	for i := 0; i+4 <= len(b); i++ {
		if b[i]|0x20 == 'd' && b[i+1]|0x20 == 'r' && b[i+2]|0x20 == 'o' && b[i+3]|0x20 == 'p' {
			return true
		}
	}
	return false
}

// DestructiveError is a directory with destructive changes, where the caller refuses them.
type DestructiveError struct {
	Dir         string // the directory as the user named it
	Diagnostics []Diagnostic
}

func (e *DestructiveError) Error() string {
	return fmt.Sprintf("%d destructive change(s) in %s: review them; silence one intended change with `-- atlas:nolint %s` above its statement",
		len(e.Diagnostics), e.Dir, e.Diagnostics[0].Code)
}
