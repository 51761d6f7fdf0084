package migdir

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Files that run again when edited (Flyway repeatables, Liquibase runOnChange changesets) get a
// new converted version at every edit (naming.go). Two things then keep the Atlas Operator
// applying them, and both need to know the versions such a file had before, which the
// directory itself no longer shows; the rerun ledger, a small file committed next to the
// migrations, keeps them:
//
//   - Every version a database may have recorded keeps a file. An edit leaves the old version's
//     revision row, and the operator takes more rows than files, with nothing pending, for a
//     database ahead of the directory and refuses to migrate down (Degraded). So each earlier
//     version stays in the converted directory as a placeholder: its name, comments, no
//     statements (atlas records it and runs nothing on a new database).
//   - Every change of the directory brings a file that sorts after every applied version. The
//     operator applies only when `atlas migrate status` lists a pending file, and status (which
//     ignores execOrder) lists only files after the newest applied version; an edited
//     repeatable or a versioned file added after the repeatables ran sorts below it. So the
//     directory ends with a marker file, no statements, whose version grows with every change
//     (zz + its ledger entry's number): it is pending, the operator applies non-linear, and the
//     files below it run first, in the tool's order.
//
// The ledger is append-only and read by every entry point; Read never writes it. An edit the
// ledger does not record yet gets the entry init and configmap would append (Dir.LedgerNew):
// they write it (and say so), the kustomize generator, which must not write, refuses to render
// until it is committed (Dir.CheckLedger): without it the next change would reuse the entry's
// number and the operator would turn the AtlasMigration Degraded.

// Branches: the ledger is a set of lines more than a sequence. Two branches that each record
// a change append different lines at the same place, which Git's line merge takes for a
// conflict; its union merge driver (GitAttributesLine, which init and configmap write to the
// directory's .gitattributes) keeps the lines of both sides instead, either side first. Read
// gives the union the same meaning whatever the order: a file keeps a recorded name only if no
// entry of its source after that name's first line has another content (ledger.current), the
// greatest marker counts (ledger.marker), and new numbers come after every entry. The merged
// directory then needs a new marker, which init or configmap records on the merged tree (the
// generator refuses until then, as for any change). A merge that cannot be right is an error
// naming the line: conflict markers left in, two contents under one name, and an entry whose
// number says that lines before it were removed (one side's lines kept, the other's dropped).

// LedgerFile is the rerun ledger's name in the source migration directory. Flyway reads only
// its *.sql migrations and their .conf files there, and the converters here only theirs.
const LedgerFile = "kubectl-atlas.ledger"

// GitAttributesLine is the .gitattributes line that makes Git merge two branches' ledgers as
// the union of their lines, which Read takes in any order.
const GitAttributesLine = LedgerFile + " merge=union"

// GitAttributesFile is where init and configmap keep GitAttributesLine: beside the ledger,
// where it applies to the ledger alone.
const GitAttributesFile = ".gitattributes"

// GitAttributes is the content of a .gitattributes (have, nil when there is none) with
// GitAttributesLine, and whether that changed it. A line that already sets or unsets the
// ledger's merge attribute is the user's choice and stays as it is.
func GitAttributes(have []byte) ([]byte, bool) {
	for _, line := range strings.Split(string(have), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.TrimPrefix(strings.TrimPrefix(f[0], "**/"), "/") != LedgerFile {
			continue
		}
		for _, a := range f[1:] {
			if a == "merge" || strings.HasPrefix(a, "merge=") || a == "-merge" || a == "!merge" || a == "binary" {
				return have, false
			}
		}
	}
	out := append([]byte(nil), have...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, GitAttributesLine+"\n"...), true
}

// markerKey is the ledger's key of the directory's marker file.
const markerKey = "(directory)"

// ledgerHeader opens every ledger file.
const ledgerHeader = `# kubectl-atlas rerun ledger: every converted version that this directory's files that run
# again when edited (Flyway R__ repeatables, Liquibase runOnChange changesets) and its change
# marker have had, oldest first: <atlas file> <checksum> <source>. kubectl atlas init and
# configmap append to it; commit it with the migrations and never remove a line: each keeps a
# version a database may have recorded (docs/init.md, "Files that run again when edited").
`

// LedgerEntry is one line of the ledger: a converted file name, the checksum of the content it
// stands for, and what it converts (a Flyway R__ file, "<file> <changeset id>" of Liquibase, or
// the directory's marker).
type LedgerEntry struct {
	Name, Sum, Key string
}

// LedgerError is a directory whose ledger does not record the versions it needs (Dir.LedgerNew),
// where the caller must not write it.
type LedgerError struct {
	File    string // the ledger's path
	Missing bool   // the file does not exist
	New     []LedgerEntry
}

func (e *LedgerError) Error() string {
	var what []string
	for _, n := range e.New {
		if n.Key == markerKey {
			what = append(what, "the change marker "+n.Name)
		} else {
			what = append(what, n.Key+" as "+n.Name)
		}
	}
	if len(what) > 3 {
		what = append(what[:3], fmt.Sprintf("%d more", len(what)-3))
	}
	msg := "does not record " + strings.Join(what, ", ")
	if e.Missing {
		msg = "not found: the directory has files that run again when edited, whose earlier versions it must keep; it would record " + strings.Join(what, ", ")
	}
	return e.File + ": " + msg + ". Record them with `kubectl atlas configmap` or `kubectl atlas init` on the directory (after a Git merge: on the merged tree, whose change marker neither branch recorded) and commit the ledger with the migrations: otherwise the next change reuses these versions' numbers and the Atlas Operator turns the AtlasMigration Degraded"
}

// CheckLedger is a *LedgerError when the ledger on disk lacks entries this read needs; for
// callers that must not write it.
func (d *Dir) CheckLedger() error {
	if len(d.LedgerNew) == 0 {
		return nil
	}
	return &LedgerError{File: path.Join(filepathToSlash(d.Path), LedgerFile), Missing: !d.ledgerFound, New: d.LedgerNew}
}

// LedgerPath is where the ledger of a directory read from dir lives.
func LedgerPath(dir string) string { return dir + "/" + LedgerFile }

// rerunKey is what the ledger calls the file s converts to, when it runs again when edited.
func rerunKey(s *source) string {
	if !s.rerun {
		return ""
	}
	if p, ok := s.meta.(*liquibasePart); ok {
		return s.path + " " + p.id
	}
	return "R__" + s.desc + ".sql" // Flyway knows repeatables by description, not folder
}

// ledger is the parsed file plus what this read appends.
type ledger struct {
	entries []LedgerEntry
	added   int // entries[len-added:] are new
}

// current is the name under which the key's file with content sum keeps its version, "" when
// it needs a new one. A database that applied a version of the key has a later one of the
// ledger's applied too, if it followed the branch that recorded it; so a name may stay only
// if every entry of the key after its first line has the same content: then no database
// that applied it has since applied another content. In a ledger of one branch that is the
// last entry of the key, when its content is the file's. In the union of two branches' lines
// (a Git merge, either side first) it holds for the same reason, each branch's lines keeping
// their order: the rule reads no order between branches. Of several such names the least
// is taken, so the choice does not depend on which side came first either.
func (l *ledger) current(key, sum string) string {
	first := map[string]int{}
	otherAt := -1
	for i, e := range l.entries {
		switch {
		case e.Key != key:
		case e.Sum != sum:
			otherAt = i
		default:
			if _, ok := first[e.Name]; !ok {
				first[e.Name] = i
			}
		}
	}
	best := ""
	for name, i := range first {
		if i > otherAt && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

// marker is the greatest change marker the ledger holds: the one every other file sorts below.
func (l *ledger) marker() *LedgerEntry {
	var m *LedgerEntry
	for i, e := range l.entries {
		if e.Key == markerKey && (m == nil || e.Name > m.Name) {
			m = &l.entries[i]
		}
	}
	return m
}

func (l *ledger) has(name string) bool {
	for _, e := range l.entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

func (l *ledger) add(e LedgerEntry) {
	l.entries = append(l.entries, e)
	l.added++
}

// next is the number of the entry about to be appended: it only grows, so names made of it
// sort after every earlier one.
func (l *ledger) next() uint64 { return uint64(len(l.entries) + 1) }

func parseLedger(b []byte) ([]LedgerEntry, error) {
	var (
		out   []LedgerEntry
		lines []int // out[i] is on line lines[i]
	)
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", LedgerFile, i+1)
		if isConflictMarker(line) {
			return nil, fileErrorf(where, "%s", conflictHelp)
		}
		f := strings.Fields(line)
		if len(f) < 3 || !strings.HasSuffix(f[0], ".sql") || !simpleKey(f[0]) || len(validation.IsConfigMapKey(f[0])) > 0 || !isHex8(f[1]) {
			return nil, fileErrorf(where, "not a ledger line (`<atlas file>.sql <8 hex digits> <source>`): restore the line from Git; the ledger is written by kubectl atlas init and configmap")
		}
		e := LedgerEntry{Name: f[0], Sum: f[1], Key: strings.Join(f[2:], " ")}
		for j, o := range out {
			if o.Name == e.Name && o != e {
				return nil, fileErrorf(where, "%s here is %s %s, on line %d it is %s %s: one version cannot stand for two contents (two branches that recorded the same name for different changes?). Keep the line that matches what databases applied (SELECT version FROM atlas_schema_revisions.atlas_schema_revisions), rename the other file's source so it gets a name of its own, and run kubectl atlas init or configmap", e.Name, e.Sum, e.Key, lines[j], o.Sum, o.Key)
			}
		}
		// A number in a name is how many entries the ledger held before it, when it was written
		// (ledger.next): fewer lines before it now means lines were removed. After a union merge
		// of two branches there are only more.
		if n, ok := entryNumber(e); ok && n > uint64(len(out)+1) {
			return nil, fileErrorf(where, "%s was the ledger's entry number %d, but only %d entries come before it: lines were removed (a Git merge resolved by keeping one side's lines?), and the versions they kept would lose their files. Restore them from Git (`git log -p -- %s`): the ledger of two branches merges as the union of their lines, in any order; then run kubectl atlas init or configmap", e.Name, n, len(out), LedgerFile)
		}
		out = append(out, e)
		lines = append(lines, i+1)
	}
	return out, nil
}

// conflictHelp is the error for a ledger that Git merged with conflict markers.
const conflictHelp = "a Git merge conflict marker: the ledgers of two branches merge as the union of their lines, in any order. Delete the marker lines (<<<<<<<, |||||||, =======, >>>>>>>) and keep every ledger line of both sides, then run kubectl atlas init or configmap on the merged directory and commit. With `" + GitAttributesLine + "` in .gitattributes (kubectl atlas init and configmap write it beside the ledger) Git merges the ledger so by itself"

func isConflictMarker(line string) bool {
	for _, m := range []string{"<<<<<<<", "|||||||", "=======", ">>>>>>>"} {
		if strings.HasPrefix(line, m) {
			return true
		}
	}
	return false
}

// entryNumber reads the number a name was given from its entry (ledger.next): the change
// marker's zz<n>, a reverted file's r<n>.
func entryNumber(e LedgerEntry) (uint64, bool) {
	v, _ := splitName(e.Name)
	var enc string
	if e.Key == markerKey {
		if !strings.HasPrefix(v, "zz") {
			return 0, false
		}
		enc, _, _ = strings.Cut(v[2:], "-")
	} else {
		i := strings.LastIndexByte(v, '-')
		if i < 0 || len(v) < i+1+8+2 || v[i+1+8] != 'r' {
			return 0, false
		}
		enc = v[i+1+8+1:]
	}
	return decodeNumber(enc)
}

func isHex8(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func renderLedger(entries []LedgerEntry) []byte {
	var b bytes.Buffer
	b.WriteString(ledgerHeader)
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s\n", e.Name, e.Sum, e.Key)
	}
	return b.Bytes()
}

// splitName splits a converted file name into its version and the rest ("_desc.sql" or ".sql").
func splitName(name string) (version, rest string) {
	v := migrate.NewLocalFile(name, nil).Version()
	return v, name[len(v):]
}

// applyLedger names the files that run again when edited from the ledger, adds a placeholder
// for every version the ledger holds that is no longer a file, and the change marker, and
// sorts the files in apply order. A directory without such files and without a ledger is left
// as it is.
func (d *Dir) applyLedger(fsys fs.FS) error {
	raw, err := fs.ReadFile(fsys, LedgerFile)
	switch {
	case err == nil:
		d.ledgerFound = true
	case !errors.Is(err, fs.ErrNotExist):
		return fileErrorf(LedgerFile, "%v", unwrapPathErr(err))
	case !d.HasRepeatables():
		return nil
	}
	if err := checkText(LedgerFile, raw); err != nil {
		return err // its keys go into the placeholders' comments
	}
	entries, err := parseLedger(raw)
	if err != nil {
		return err
	}
	l := &ledger{entries: entries}
	for i := range d.Files {
		f := &d.Files[i]
		if !f.Rerun {
			continue
		}
		version, rest := splitName(f.Name)
		sum := version[strings.LastIndexByte(version, '-')+1:]
		if name := l.current(f.key, sum); name != "" {
			f.Name = name
			continue
		}
		if l.has(f.Name) {
			// Back to a content a database may have recorded under this name: a name of its
			// own, in the same place, so it runs again as the tool would run it. The suffix
			// starts with a letter, which sorts after the '_' ending the first name, so file
			// names and versions sort alike.
			f.Name = version + "r" + encodeNumber(l.next()) + rest
		}
		l.add(LedgerEntry{Name: f.Name, Sum: sum, Key: f.key})
	}
	current := map[string]bool{}
	h := sha256.New()
	for _, f := range d.Files {
		current[f.Name] = true
		fmt.Fprintln(h, f.Name)
	}
	sum := hex.EncodeToString(h.Sum(nil)[:4])
	// The greatest marker stays when the directory is the one it was made for; any other
	// directory gets a new marker, numbered after every entry, so it sorts after every marker
	// of every branch merged into the ledger.
	if m := l.marker(); m == nil || m.Sum != sum {
		l.add(LedgerEntry{Name: "zz" + encodeNumber(l.next()) + "-" + sum + "_kubectl_atlas_marker.sql", Sum: sum, Key: markerKey})
	}
	marker := *l.marker()
	for i, e := range l.entries {
		if current[e.Name] || e.Name == marker.Name {
			continue
		}
		current[e.Name] = true
		d.Files = append(d.Files, File{Name: e.Name, Data: placeholder(e, l.entries[i+1:]), Source: LedgerFile})
	}
	for _, f := range d.Files {
		if f.Name >= marker.Name {
			return fileErrorf(f.Source, "converts to %s, which sorts after the change marker %s that must come last (docs/init.md, \"Files that run again when edited\"): rename the file so that its version sorts lower", f.Name, marker.Name)
		}
	}
	d.Files = append(d.Files, File{Name: marker.Name, Data: []byte(markerText), Source: LedgerFile})
	sort.SliceStable(d.Files, func(i, j int) bool { return d.Files[i].Name < d.Files[j].Name })
	kept := d.Ignored[:0]
	for _, p := range d.Ignored {
		if p != LedgerFile && p != GitAttributesFile {
			kept = append(kept, p)
		}
	}
	d.Ignored = kept
	d.Ledger = renderLedger(l.entries)
	d.LedgerNew = l.entries[len(l.entries)-l.added:]
	if len(d.LedgerNew) == 0 {
		d.LedgerNew = nil
	}
	return nil
}

const markerText = `-- kubectl-atlas: the change marker of this directory (kubectl-atlas.ledger). No statements.
-- A new marker comes with every change and sorts after every other file: atlas migrate status
-- lists it as pending, so the Atlas Operator applies the change (execOrder: non-linear runs
-- the new files below it first, in the source tool's order).
`

// placeholder is the content kept for an earlier version: which entry replaced it, and why the
// file is there.
func placeholder(e LedgerEntry, later []LedgerEntry) []byte {
	what := "an earlier version of " + e.Key
	if e.Key == markerKey {
		what = "an earlier change marker of this directory"
	}
	by := "no longer in the directory"
	for _, n := range later {
		if n.Key == e.Key {
			by = "replaced by " + n.Name
			break
		}
	}
	return []byte(fmt.Sprintf(`-- kubectl-atlas: %s, %s (kubectl-atlas.ledger).
-- No statements: a database that applied this version keeps its revision row, and the file
-- keeps that row matched, so the Atlas Operator does not take the database for ahead of the
-- directory. On a new database it is recorded and runs nothing.
`, what, by))
}
