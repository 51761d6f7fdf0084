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
	const (
		start = iota
		up
		block
		down
	)
	var (
		f        gooseFile
		state    = start
		buf      strings.Builder
		comments []string
		first    int
	)
	flush := func(isBlock bool) {
		text := strings.TrimSpace(buf.String())
		if text != "" || isBlock {
			f.stmts = append(f.stmts, gooseStmt{comments: comments, text: text, block: isBlock, line: first})
		}
		buf.Reset()
		comments = nil
	}
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r") // goose reads lines with bufio.ScanLines
		n := i + 1
		ann, isAnn := gooseAnnotation(line)
		if state == down {
			if isAnn && ann == "no transaction" {
				f.noTx = true
			}
			continue
		}
		if isAnn {
			switch ann {
			case "up":
				if state != start {
					return nil, lineError(n, "a second `-- +goose Up` annotation: goose refuses the file")
				}
				state = up
			case "down":
				switch {
				case state == start:
					return nil, lineError(n, "`-- +goose Down` before `-- +goose Up`: goose refuses the file")
				case state == block:
					return nil, lineError(n, "`-- +goose Down` inside a StatementBegin block: add `-- +goose StatementEnd` first")
				case strings.TrimSpace(buf.String()) != "":
					return nil, lineError(first, "statement not terminated by ';' before `-- +goose Down`: goose refuses the file")
				}
				state = down // the operator never runs the down section
			case "statementbegin":
				if state == start {
					return nil, lineError(n, "`-- +goose StatementBegin` before `-- +goose Up`")
				}
				if state == up {
					if strings.TrimSpace(buf.String()) != "" {
						return nil, lineError(first, "statement not terminated by ';' before `-- +goose StatementBegin`")
					}
					state = block
					first = n + 1
				}
			case "statementend":
				if state != block {
					return nil, lineError(n, "`-- +goose StatementEnd` without `-- +goose StatementBegin`")
				}
				flush(true)
				state = up
			case "no transaction":
				f.noTx = true
			case "envsub on", "envsubst on":
				return nil, lineError(n, "`-- +goose ENVSUB ON` substitutes environment variables when goose runs; the operator runs the file as it is: write the values in, or keep this migration in goose")
			case "envsub off", "envsubst off":
			default:
				return nil, lineError(n, fmt.Sprintf("unknown goose annotation %q", strings.TrimSpace(line)))
			}
			continue
		}
		switch state {
		case start:
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				return nil, lineError(n, "SQL before `-- +goose Up`: goose refuses the file")
			}
			continue
		case block:
			buf.WriteString(line + "\n")
			continue
		}
		if buf.Len() == 0 {
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
				if t != "" {
					comments = append(comments, t)
				}
				continue
			}
			first = n
		}
		buf.WriteString(line + "\n")
		if gooseEndsStatement(line) {
			flush(false)
		}
	}
	switch {
	case state == start:
		return nil, errors.New("no `-- +goose Up` annotation: not a goose SQL migration")
	case state == block:
		return nil, lineError(first-1, "`-- +goose StatementBegin` without `-- +goose StatementEnd`")
	case strings.TrimSpace(buf.String()) != "":
		return nil, lineError(first, "statement not terminated by ';' at the end of the file: goose refuses the file")
	}
	return &f, nil
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
