package migdir

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatGoose is goose's SQL directory: <version>_<name>.sql files with `-- +goose Up` and
// `-- +goose Down` sections; versions are numbers, ordered as numbers.
const FormatGoose = "goose"

var (
	goose = &gooseFormat{about{
		name: FormatGoose, title: "goose", files: "<version>_<name>.sql",
		baselineHint: "`SELECT max(version_id) FROM goose_db_version WHERE is_applied`",
		tables:       []string{"goose_db_version"},
	}}
	reGooseUp = lazyRegexp(`(?mi)^--\s*\+goose\s+Up\b`)
)

type gooseFormat struct{ about }

// detectFile: a `-- +goose Up` line.
func (gooseFormat) detectFile(b []byte) bool { return reGooseUp().Match(b) }

func (gooseFormat) detect(fs.FS, []string) bool { return false }

func (f *gooseFormat) collect(fsys fs.FS, d *Dir) ([]*source, error) {
	return collectNumbered(fsys, d, f.name, reNumbered(), true)
}

func (f *gooseFormat) order(srcs []*source) ([]*source, error) { return orderNumbers(srcs, f.name) }

func (gooseFormat) version(s *source) string { return encodeNumber(s.version[0]) }

func (gooseFormat) baseline(v string) string { return numberBaseline(v) }

// statements: the up section split by goose's rules (parseGoose), in a transaction unless the
// file says NO TRANSACTION.
func (gooseFormat) statements(s *source) ([]*migrate.Stmt, txChoice, error) {
	g, err := parseGoose(string(s.data))
	if err != nil {
		return nil, txChoice{}, err
	}
	stmts := make([]*migrate.Stmt, 0, len(g.stmts))
	for _, st := range g.stmts {
		text, trailing := st.text, ""
		if !st.block {
			text, trailing = splitTrailingComment(st.text)
		}
		comments := st.comments
		if trailing != "" {
			comments = append(comments, trailing)
		}
		stmts = append(stmts, &migrate.Stmt{Text: text, Comments: comments})
	}
	var tx txChoice
	if g.noTx {
		tx = txChoice{none: true, why: "goose: `-- +goose NO TRANSACTION` runs this file outside a transaction"}
	}
	return stmts, tx, nil
}

// splitTrailingComment separates a `-- comment` after the final ';' of a goose statement: the
// database ignores it, and atlas would otherwise take it for the next statement's comment.
func splitTrailingComment(text string) (string, string) {
	i := strings.LastIndexByte(text, '\n')
	last := text[i+1:]
	idx := -1
	for j := 0; j+1 < len(last); j++ {
		if last[j] == '-' && last[j+1] == '-' && (j == 0 || last[j-1] == ' ' || last[j-1] == '\t') {
			idx = j
			break
		}
	}
	if idx < 0 {
		return text, ""
	}
	head := strings.TrimRight(last[:idx], " \t")
	if !strings.HasSuffix(head, ";") {
		return text, ""
	}
	return text[:i+1] + head, strings.TrimSpace(last[idx:])
}

// gooseFile is what goose would run of one SQL migration: the up statements and whether they
// run in a transaction.
type gooseFile struct {
	stmts []gooseStmt
	noTx  bool
}

// gooseStmt is one statement as goose sends it, with the comment lines goose skips before it
// (kept as comments of the converted file, they run nothing) and its 1-based first line.
type gooseStmt struct {
	comments []string
	text     string
	block    bool // from a StatementBegin/End block: goose does not split it
	line     int
}

// parseGoose splits a goose SQL migration by goose's documented rules (pressly/goose
// internal/sqlparser), written here from those rules:
//   - annotations are lines starting with "--" whose text is "+goose <word>", case-insensitive;
//   - outside StatementBegin/End a statement ends on a line whose last word before a word
//     starting with "--" ends with ';' (so `SELECT 1; -- note` ends, a ';' inside a trailing
//     comment does not);
//   - StatementBegin/End blocks are one statement whatever they hold;
//   - comment and blank lines before a statement are skipped; lines inside one are sent;
//   - NO TRANSACTION anywhere runs the file outside a transaction;
//   - text left unterminated at Down or the end of the file is an error, as goose reports it.
func parseGoose(src string) (*gooseFile, error) {
	if !reGooseUp().MatchString(src) {
		return nil, errors.New("no `-- +goose Up` section: not a goose SQL migration")
	}
	p := &gooseParser{}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSuffix(line, "\r") // goose reads lines with bufio.ScanLines
		if err := p.line(i+1, line); err != nil {
			return nil, err
		}
	}
	switch {
	case p.state == gooseStart:
		return nil, errors.New("no `-- +goose Up` annotation: not a goose SQL migration")
	case p.state == gooseBlock:
		return nil, lineError(p.first-1, "`-- +goose StatementBegin` without `-- +goose StatementEnd`")
	case p.pending():
		return nil, lineError(p.first, "statement not terminated by ';' at the end of the file: goose refuses the file")
	}
	return &p.f, nil
}

// Parser states: before Up, in the up section, inside StatementBegin/End, in the down section.
const (
	gooseStart = iota
	gooseUpSection
	gooseBlock
	gooseDownSection
)

type gooseParser struct {
	f        gooseFile
	state    int
	buf      strings.Builder
	comments []string // skipped comment lines before the statement in buf
	first    int      // line of the statement in buf
}

func (p *gooseParser) pending() bool { return strings.TrimSpace(p.buf.String()) != "" }

func (p *gooseParser) flush(block bool) {
	if text := strings.TrimSpace(p.buf.String()); text != "" || block {
		p.f.stmts = append(p.f.stmts, gooseStmt{comments: p.comments, text: text, block: block, line: p.first})
	}
	p.buf.Reset()
	p.comments = nil
}

func (p *gooseParser) line(n int, line string) error {
	ann, isAnn := gooseAnnotation(line)
	switch {
	case p.state == gooseDownSection: // the operator never runs it; only NO TRANSACTION counts
		if isAnn && ann == "no transaction" {
			p.f.noTx = true
		}
		return nil
	case isAnn:
		return p.annotation(n, ann, line)
	case p.state == gooseStart:
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return lineError(n, "SQL before `-- +goose Up`: goose refuses the file")
		}
		return nil
	case p.state == gooseBlock:
		p.buf.WriteString(line + "\n")
		return nil
	}
	if p.buf.Len() == 0 {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			if t != "" {
				p.comments = append(p.comments, t)
			}
			return nil
		}
		p.first = n
	}
	p.buf.WriteString(line + "\n")
	if gooseEndsStatement(line) {
		p.flush(false)
	}
	return nil
}

func (p *gooseParser) annotation(n int, ann, line string) error {
	switch ann {
	case "up":
		if p.state != gooseStart {
			return lineError(n, "a second `-- +goose Up` annotation: goose refuses the file")
		}
		p.state = gooseUpSection
	case "down":
		switch {
		case p.state == gooseStart:
			return lineError(n, "`-- +goose Down` before `-- +goose Up`: goose refuses the file")
		case p.state == gooseBlock:
			return lineError(n, "`-- +goose Down` inside a StatementBegin block: add `-- +goose StatementEnd` first")
		case p.pending():
			return lineError(p.first, "statement not terminated by ';' before `-- +goose Down`: goose refuses the file")
		}
		p.state = gooseDownSection
	case "statementbegin":
		switch {
		case p.state == gooseStart:
			return lineError(n, "`-- +goose StatementBegin` before `-- +goose Up`")
		case p.state == gooseUpSection && p.pending():
			return lineError(p.first, "statement not terminated by ';' before `-- +goose StatementBegin`")
		}
		p.state, p.first = gooseBlock, n+1
	case "statementend":
		if p.state != gooseBlock {
			return lineError(n, "`-- +goose StatementEnd` without `-- +goose StatementBegin`")
		}
		p.flush(true)
		p.state = gooseUpSection
	case "no transaction":
		p.f.noTx = true
	case "envsub on", "envsubst on":
		return lineError(n, "`-- +goose ENVSUB ON` substitutes environment variables when goose runs; the operator runs the file as it is: write the values in, or keep this migration in goose")
	case "envsub off", "envsubst off":
	default:
		return lineError(n, fmt.Sprintf("unknown goose annotation %q", strings.TrimSpace(line)))
	}
	return nil
}

// gooseAnnotation reports the lower-cased annotation of a `-- +goose ...` line.
func gooseAnnotation(line string) (string, bool) {
	if !strings.HasPrefix(line, "--") {
		return "", false
	}
	rest := strings.TrimSpace(line[2:])
	if len(rest) < 6 || !strings.EqualFold(rest[:6], "+goose") {
		return "", false
	}
	words := strings.Fields(rest[6:])
	if len(rest) > 6 && rest[6] != ' ' && rest[6] != '\t' {
		return "", false
	}
	return strings.ToLower(strings.Join(words, " ")), true
}

// gooseEndsStatement: the last word before any word starting with "--" ends with ';'.
func gooseEndsStatement(line string) bool {
	prev := ""
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "--") {
			break
		}
		prev = w
	}
	return strings.HasSuffix(prev, ";")
}

// lineError is a parse error at a 1-based line of the source file.
type lineErr struct {
	line int
	msg  string
}

func (e *lineErr) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func lineError(line int, msg string) error { return &lineErr{line: line, msg: msg} }
