package migdir

import (
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

var (
	reLiquibaseHeader    = regexp.MustCompile(`(?i)^--\s*liquibase\s+formatted\s+sql\b`)
	reLiquibaseChangeset = regexp.MustCompile(`(?i)^--\s*changeset\s+(\S+)(.*)$`)
	reLiquibaseAttr      = regexp.MustCompile(`(\w+):("[^"]*"|\S+)`)
	// Lines Liquibase reads as changeset metadata, never as SQL to run.
	reLiquibaseMeta = regexp.MustCompile(`(?i)^--\s*(?:rollback|precondition|preconditions|comment|validCheckSum|ignoreLines)\b`)
)

// liquibaseChangeset is one `--changeset author:id` section of a formatted SQL file.
type liquibaseChangeset struct {
	id     string
	header string // the --changeset line, kept as a comment
	line   int
	attrs  map[string]string // lower-cased attribute names
	body   []string
}

// parseLiquibase reads a Liquibase formatted SQL file by Liquibase's documented rules: the
// `--liquibase formatted sql` header, then changesets, each running its lines up to the next
// `--changeset`; `--rollback` and precondition lines are metadata.
func parseLiquibase(src string) ([]*liquibaseChangeset, error) {
	lines := strings.Split(src, "\n")
	header := false
	var (
		out []*liquibaseChangeset
		cur *liquibaseChangeset
	)
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		t := strings.TrimSpace(line)
		switch {
		case !header:
			if t == "" {
				continue
			}
			if !reLiquibaseHeader.MatchString(t) {
				return nil, lineError(i+1, "the first line of a Liquibase formatted SQL file must be `--liquibase formatted sql`")
			}
			header = true
		case reLiquibaseChangeset.MatchString(t):
			m := reLiquibaseChangeset.FindStringSubmatch(t)
			cur = &liquibaseChangeset{id: m[1], header: t, line: i + 1, attrs: map[string]string{}}
			for _, a := range reLiquibaseAttr.FindAllStringSubmatch(m[2], -1) {
				cur.attrs[strings.ToLower(a[1])] = strings.Trim(a[2], `"`)
			}
			out = append(out, cur)
		case reLiquibaseMeta.MatchString(t):
		case cur == nil:
			if t != "" && !strings.HasPrefix(t, "--") {
				return nil, lineError(i+1, "SQL before the first `--changeset author:id` line: Liquibase does not run it")
			}
		default:
			cur.body = append(cur.body, line)
		}
	}
	if !header {
		return nil, fmt.Errorf("no `--liquibase formatted sql` header: not a Liquibase formatted SQL file")
	}
	return out, nil
}

// liquibaseStatements gives the statements of every changeset, in order. A changeset with
// splitStatements:false is one statement; runInTransaction:false on any changeset makes the
// file run outside a transaction (atlas chooses per file, Liquibase per changeset).
func liquibaseStatements(s *source) ([]*migrate.Stmt, txChoice, error) {
	sets, err := parseLiquibase(string(s.data))
	if err != nil {
		return nil, txChoice{}, err
	}
	var (
		stmts []*migrate.Stmt
		noTx  []string
	)
	for _, cs := range sets {
		if v, ok := cs.attrs["enddelimiter"]; ok && v != ";" {
			return nil, txChoice{}, lineError(cs.line, fmt.Sprintf("changeset %s: endDelimiter:%s is not converted: split the statements with ';' or use splitStatements:false", cs.id, v))
		}
		if strings.EqualFold(cs.attrs["runalways"], "true") || strings.EqualFold(cs.attrs["runonchange"], "true") {
			return nil, txChoice{}, lineError(cs.line, fmt.Sprintf("changeset %s: runAlways/runOnChange re-run a changeset; atlas applies every file once: move it out of the migrations", cs.id))
		}
		body := strings.Join(cs.body, "\n")
		first := &migrate.Stmt{Comments: []string{cs.header}}
		if strings.EqualFold(cs.attrs["splitstatements"], "false") {
			if t := strings.TrimSpace(body); t != "" {
				first.Text = t
				stmts = append(stmts, first)
			}
		} else {
			part, err := migrate.Stmts(body)
			if err != nil {
				return nil, txChoice{}, lineError(cs.line, fmt.Sprintf("changeset %s: splitting statements: %v", cs.id, err))
			}
			if len(part) > 0 {
				part[0].Comments = append(first.Comments, part[0].Comments...)
			}
			stmts = append(stmts, part...)
		}
		if strings.EqualFold(cs.attrs["runintransaction"], "false") {
			noTx = append(noTx, cs.id)
		}
	}
	var tx txChoice
	if len(noTx) > 0 {
		tx = txChoice{none: true, why: fmt.Sprintf("Liquibase: runInTransaction:false on changeset %s runs this file outside a transaction", strings.Join(noTx, ", "))}
	}
	return stmts, tx, nil
}
