package migdir

import (
	"errors"
	"fmt"
	"strings"
)

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
	if !reGooseUp.MatchString(src) {
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
