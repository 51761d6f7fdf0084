package migdir

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// FormatLiquibase is a Liquibase directory of formatted SQL files (includeAll):
// <number>_<name>.sql files that start with `--liquibase formatted sql`, applied in file name
// order, versions kept as written. A runOnChange changeset becomes a file of its own
// (splitRunOnChange): the file's version, the j-th such changeset's number (naming.go), '-' and
// a checksum of the changeset (001 -> 001a1-<checksum>). Versions of Liquibase files are
// digits, so this sorts after the file's other changesets (001_...) and before any other file's.
const FormatLiquibase = "liquibase"

var (
	liquibase = &liquibaseFormat{about{
		name: FormatLiquibase, title: "Liquibase", files: "<number>_<name>.sql",
		baselineHint: "the number of the last file whose changesets are all in databasechangelog",
		tables:       []string{"databasechangelog", "databasechangeloglock"},
		asWritten:    true,
		rerun:        "its runOnChange changesets run again when edited, as a new version that sorts below versions already applied",
	}}
	reLiquibase          = lazyRegexp(`(?mi)^--\s*liquibase\s+formatted\s+sql`)
	reLiquibaseHeader    = lazyRegexp(`(?i)^--\s*liquibase\s+formatted\s+sql\b`)
	reLiquibaseChangeset = lazyRegexp(`(?i)^--\s*changeset\s+(\S+)(.*)$`)
	reLiquibaseAttr      = lazyRegexp(`(\w+):("[^"]*"|\S+)`)
	// Lines Liquibase reads as changeset metadata, never as SQL to run.
	reLiquibaseMeta = lazyRegexp(`(?i)^--\s*(?:rollback|precondition|preconditions|comment|validCheckSum|ignoreLines)\b`)
)

type liquibaseFormat struct{ about }

// detectFile: the `--liquibase formatted sql` header.
func (liquibaseFormat) detectFile(b []byte) bool { return reLiquibase().Match(b) }

func (liquibaseFormat) detect(fs.FS, []string) bool { return false }

func (f *liquibaseFormat) collect(fsys fs.FS, d *Dir) ([]*source, error) {
	return collectNumbered(fsys, d, f.name, reNumbered(), true)
}

// order: by file name, then each runOnChange changeset split into a file of its own.
func (f *liquibaseFormat) order(srcs []*source) ([]*source, error) {
	srcs, err := orderNames(srcs, f.name)
	if err != nil {
		return nil, err
	}
	return splitRunOnChange(srcs)
}

func (liquibaseFormat) version(s *source) string {
	if p, ok := s.meta.(*liquibasePart); ok {
		return p.version
	}
	return s.raw
}

func (liquibaseFormat) baseline(v string) string { return v }

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
			if !reLiquibaseHeader().MatchString(t) {
				return nil, lineError(i+1, "the first line of a Liquibase formatted SQL file must be `--liquibase formatted sql`")
			}
			header = true
		case reLiquibaseChangeset().MatchString(t):
			m := reLiquibaseChangeset().FindStringSubmatch(t)
			cur = &liquibaseChangeset{id: m[1], header: t, line: i + 1, attrs: map[string]string{}}
			for _, a := range reLiquibaseAttr().FindAllStringSubmatch(m[2], -1) {
				cur.attrs[strings.ToLower(a[1])] = strings.Trim(a[2], `"`)
			}
			out = append(out, cur)
		case reLiquibaseMeta().MatchString(t):
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

// statements gives the statements of every changeset, in order. A changeset with
// splitStatements:false is one statement; runInTransaction:false on any changeset makes the
// file run outside a transaction (atlas chooses per file, Liquibase per changeset).
func (liquibaseFormat) statements(s *source) ([]*migrate.Stmt, txChoice, error) {
	sets, err := parseLiquibase(string(s.data))
	if err != nil {
		return nil, txChoice{}, err
	}
	if p, ok := s.meta.(*liquibasePart); ok {
		sets = sets[p.from:p.to]
	}
	var (
		stmts []*migrate.Stmt
		noTx  []string
	)
	for _, cs := range sets {
		if v, ok := cs.attrs["enddelimiter"]; ok && v != ";" {
			return nil, txChoice{}, lineError(cs.line, fmt.Sprintf("changeset %s: endDelimiter:%s is not converted: split the statements with ';' or use splitStatements:false", cs.id, v))
		}
		if isTrue(cs.attrs["runalways"]) {
			return nil, txChoice{}, lineError(cs.line, fmt.Sprintf("changeset %s: runAlways:true runs it on every update, and atlas has no equivalent (it applies a file once, or again only as a new version): use runOnChange:true if it only needs to run again when it is edited, or move it out of the migrations (an init container or a Job of the app)", cs.id))
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

func isTrue(v string) bool { return strings.EqualFold(v, "true") }

// liquibasePart is a piece of a formatted SQL file split at its runOnChange changesets:
// changesets [from, to) of the file, converted as one atlas file with this version.
type liquibasePart struct {
	from, to int
	version  string
	id       string // a runOnChange changeset's author:id
}

// splitRunOnChange gives each runOnChange changeset a file of its own whose version carries the
// changeset's checksum: Liquibase runs such a changeset again, in its place in the changelog,
// whenever its checksum changes, and to atlas an edit is then a new pending version in the same
// place (001a1-<checksum> sorts right after 001_...). The file's other changesets keep the
// file's own name, so a file without runOnChange converts as before. A changeset that must run
// once cannot follow a runOnChange one in the same file: its converted file would need a name
// that sorts after a version that changes with every edit, yet never changes itself.
func splitRunOnChange(srcs []*source) ([]*source, error) {
	var out []*source
	for _, s := range srcs {
		sets, err := parseLiquibase(string(s.data))
		if err != nil {
			return nil, sourceError(s, err)
		}
		first := -1
		for i, cs := range sets {
			switch {
			case isTrue(cs.attrs["runonchange"]) && first < 0:
				first = i
			case !isTrue(cs.attrs["runonchange"]) && first >= 0:
				roc := sets[first]
				return nil, sourceError(s, lineError(cs.line, fmt.Sprintf("changeset %s runs once but follows the runOnChange changeset %s (line %d) in the same file: each runOnChange changeset becomes an atlas file of its own that sorts after the rest of its file, so move the runOnChange changesets to the end of the file (or to a file of their own); Liquibase identifies changesets by file, id and author, not position, so this changes nothing for databases it migrated", cs.id, roc.id, roc.line)))
			}
		}
		if first < 0 {
			out = append(out, s)
			continue
		}
		if first > 0 {
			head := *s
			head.meta = &liquibasePart{from: 0, to: first, version: s.raw}
			out = append(out, &head)
		}
		for i := first; i < len(sets); i++ {
			p := *s
			p.desc = s.desc + "_" + sets[i].id
			p.rerun = true
			p.meta = &liquibasePart{from: i, to: i + 1, id: sets[i].id,
				version: s.raw + encodeNumber(uint64(i-first+1)) + "-" + liquibaseChecksum(sets[i])}
			out = append(out, &p)
		}
	}
	return out, nil
}

// liquibaseChecksum stands for the checksum Liquibase keeps of a changeset (MD5SUM of
// databasechangelog): it changes when the SQL does, and not when only whitespace does
// (Liquibase 4.22 and later normalise whitespace in SQL changesets before hashing). Rollback
// and other metadata lines are not part of it, as in Liquibase.
func liquibaseChecksum(cs *liquibaseChangeset) string {
	norm := strings.Join(strings.Fields(strings.Join(cs.body, "\n")), " ")
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:4])
}
