package migdir

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// txChoice is how a converted file runs: in atlas's default per-file transaction, or without
// one (`-- atlas:txmode none`). why is written into the file as a comment.
type txChoice struct {
	none bool
	why  string
	warn string // for the user, when the tool itself would have objected
}

// directives are the file's header lines. The reason never contains "atlas:", so atlas does
// not read it as a directive.
func (t txChoice) directives() []string {
	var out []string
	if t.none {
		out = append(out, "-- atlas:txmode none")
	}
	if t.why != "" { // names from the source (a changeset author "atlas") must not read as one
		out = append(out, "-- "+strings.ReplaceAll(t.why, "atlas:", "atlas :"))
	}
	return out
}

var (
	utf8BOM = []byte("\ufeff")
	// PostgreSQL statements that refuse to run inside a transaction block; Flyway detects them
	// and runs the migration outside one.
	reNonTx = regexp.MustCompile(`(?is)^\s*(?:` +
		`CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b|DROP\s+INDEX\s+CONCURRENTLY\b|` +
		`REINDEX\b[^;]*\bCONCURRENTLY\b|REINDEX\s+(?:\(\s*[^)]*\)\s*)?(?:SYSTEM|DATABASE)\b|VACUUM\b|` +
		`ALTER\s+SYSTEM\b|(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE|SUBSCRIPTION)\b|` +
		`ALTER\s+TABLE\b[^;]*\bDETACH\s+PARTITION\b[^;]*\bCONCURRENTLY\b|DISCARD\s+ALL\b|CLUSTER\s*;?\s*$)`)
	reTxBegin  = regexp.MustCompile(`(?i)^(?:BEGIN(?:\s+(?:TRANSACTION|WORK))?|START\s+TRANSACTION)\s*;?$`)
	reTxCommit = regexp.MustCompile(`(?i)^(?:COMMIT|END)(?:\s+(?:TRANSACTION|WORK))?\s*;?$`)
	reTracking = regexp.MustCompile(`(?i)\b(schema_migrations|goose_db_version|flyway_schema_history|databasechangeloglock|databasechangelog)\b`)
	trackedBy  = map[string]string{
		"schema_migrations":     "golang-migrate's and dbmate's",
		"goose_db_version":      "goose's",
		"flyway_schema_history": "Flyway's",
		"databasechangelog":     "Liquibase's",
		"databasechangeloglock": "Liquibase's",
	}
	reFlywayNoTxConf = regexp.MustCompile(`(?m)^\s*executeInTransaction\s*=\s*false\s*$`)
	reFlywayHolder   = regexp.MustCompile(`\$\{[^}\s]+\}`)
)

func gooseStatements(s *source) ([]*migrate.Stmt, txChoice, error) {
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

func dbmateStatements(s *source) ([]*migrate.Stmt, txChoice, error) {
	if !reDBMateUp.Match(s.data) {
		return nil, txChoice{}, fmt.Errorf("no `-- migrate:up` section: not a dbmate migration")
	}
	var up []string
	in := false
	for _, line := range strings.Split(string(s.data), "\n") {
		if m := reDBMatePragmaOpts.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			if m[1] == "down" {
				break
			}
			in = true
			continue
		}
		if in {
			up = append(up, line)
		}
	}
	stmts, err := migrate.Stmts(strings.Join(up, "\n"))
	if err != nil {
		return nil, txChoice{}, fmt.Errorf("splitting statements: %v", err)
	}
	var tx txChoice
	if reDBMateNoTx.Match(s.data) {
		tx = txChoice{none: true, why: "dbmate: `transaction:false` on the migrate:up line runs this file outside a transaction"}
	}
	return stmts, tx, nil
}

// golangMigrateStatements: golang-migrate runs a file as it is, without a transaction of its
// own; a file that wraps itself in BEGIN ... COMMIT gets atlas's transaction instead.
func golangMigrateStatements(s *source) ([]*migrate.Stmt, txChoice, error) {
	stmts, err := migrate.Stmts(string(s.data))
	if err != nil {
		return nil, txChoice{}, fmt.Errorf("splitting statements: %v", err)
	}
	if n := len(stmts); n >= 2 && reTxBegin.MatchString(strings.TrimSpace(stmts[0].Text)) && reTxCommit.MatchString(strings.TrimSpace(stmts[n-1].Text)) {
		inner := stmts[1 : n-1]
		wrapped := true
		for _, st := range inner {
			t := strings.TrimSpace(st.Text)
			if reTxBegin.MatchString(t) || reTxCommit.MatchString(t) {
				wrapped = false
			}
		}
		if wrapped {
			if len(stmts[0].Comments) > 0 && len(inner) > 0 {
				inner[0].Comments = append(append([]string{}, stmts[0].Comments...), inner[0].Comments...)
			}
			return inner, txChoice{why: "golang-migrate: the file's own BEGIN ... COMMIT became the transaction this file runs in"}, nil
		}
	}
	return stmts, txChoice{none: true, why: "golang-migrate runs a file without a transaction: each statement commits on its own"}, nil
}

// flywayStatements: Flyway runs a migration in a transaction unless a statement cannot run in
// one (PostgreSQL's CREATE INDEX CONCURRENTLY, VACUUM, ...) or its script configuration says
// executeInTransaction=false.
func flywayStatements(s *source) ([]*migrate.Stmt, txChoice, error) {
	stmts, err := migrate.Stmts(string(s.data))
	if err != nil {
		return nil, txChoice{}, fmt.Errorf("splitting statements: %v", err)
	}
	if reFlywayNoTxConf.Match(s.conf) {
		return stmts, txChoice{none: true, why: "Flyway: executeInTransaction=false in " + pathBase(s.path) + ".conf"}, nil
	}
	var nonTx []string
	for _, st := range stmts {
		if m := reNonTx.FindString(st.Text); m != "" {
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

// trackingTableWarnings finds lines that name another tool's tracking table: after the
// conversion atlas records versions in its own table and the old one is no longer written.
func trackingTableWarnings(file string, b []byte) []Warning {
	var out []Warning
	for i, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); bytes.HasPrefix(t, []byte("--")) {
			continue
		}
		m := reTracking.FindSubmatch(line)
		if m == nil {
			continue
		}
		table := strings.ToLower(string(m[1]))
		out = append(out, Warning{File: file, Line: i + 1, Message: fmt.Sprintf(
			"references %s, %s tracking table: after the conversion atlas records applied versions in atlas_schema_revisions and %s is no longer written", table, trackedBy[table], table)})
	}
	return out
}

// flywayPlaceholderWarnings finds ${name} placeholders, which Flyway replaces when it runs a
// script and the converted file sends as written.
func flywayPlaceholderWarnings(file string, b []byte) []Warning {
	var out []Warning
	for i, line := range bytes.Split(b, []byte("\n")) {
		if m := reFlywayHolder.Find(line); m != nil {
			out = append(out, Warning{File: file, Line: i + 1, Message: fmt.Sprintf(
				"Flyway placeholder %s: Flyway replaces it when it runs the script; the converted file keeps it as written: put the value in", m)})
		}
	}
	return out
}
