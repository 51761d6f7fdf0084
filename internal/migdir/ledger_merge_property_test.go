package migdir

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"
)

// TestLedgerBranchesProperty: random Flyway histories with branches. Each branch adds versioned
// files, edits, reverts and adds repeatables, and records the ledger at every commit (as init
// and configmap do); a database follows each branch, applying every commit as the Atlas
// Operator does (non-linear, every file not yet recorded, in name order). Branches are merged
// with Git's union merge of the ledger (`git merge-file --union`, the merge=union driver),
// either side first; a repeatable both sides edited is resolved to one side's content or to a
// new one. After each merge, recorded on the merged tree:
//   - the recorded ledger is a fixed point (read again it asks for nothing and gives the same
//     names);
//   - every database, whichever branch it followed, and a new one, end with every repeatable's
//     merged content as the last one applied, with a file for every version they recorded;
//   - before applying, when a database has a file with statements pending, the marker is
//     pending too and sorts after every version it recorded (`atlas migrate status` lists it,
//     so the operator applies). Placeholders alone pending need no sync: they run nothing,
//     and the next change records them.
func TestLedgerBranchesProperty(t *testing.T) {
	git, err := exec.LookPath("git")
	require.NoError(t, err, "git runs the ledger merges (a missing git fails this test)")
	r := rand.New(rand.NewPCG(2026, 12))
	for iter := 0; iter < 120; iter++ {
		s := &branchSim{t: t, r: r, git: git, tmp: t.TempDir()}
		s.run(iter)
	}
}

type simDB struct {
	applied map[string]bool
	content map[string]string // repeatable -> content last applied
}

type simBranch struct {
	files  map[string]string
	ledger []byte
	db     *simDB
}

type branchSim struct {
	t        *testing.T
	r        *rand.Rand
	git, tmp string
	version  int
	iter     int
	log      []string
}

func (s *branchSim) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("iteration %d: %s\nhistory:\n%s", s.iter, fmt.Sprintf(format, args...), strings.Join(s.log, "\n"))
}

func (s *branchSim) run(iter int) {
	s.iter = iter
	main := &simBranch{files: map[string]string{"V1__t.sql": "CREATE TABLE t (a int);\n", "R__a.sql": "SELECT 'a0';\n"}, db: newSimDB()}
	s.version = 1
	s.commit(main)
	for round := 0; round < 2; round++ {
		a, b := main.fork(), main.fork()
		for n := 1 + s.r.IntN(3); n > 0; n-- {
			s.change(a, "A")
		}
		for n := 1 + s.r.IntN(3); n > 0; n-- {
			s.change(b, "B")
		}
		base := main.clone()
		// A lands first (fast-forward), main's database follows it; then B is merged.
		main.files, main.ledger = a.files, a.ledger
		s.apply(main.db, main)
		ours, theirs := main, b
		mainFirst := s.r.IntN(2) == 0
		if !mainFirst {
			ours, theirs = b, main // B merged main in, then main fast-forwards to it
		}
		merged := s.merge(base, ours, theirs)
		s.log = append(s.log, fmt.Sprintf("round %d merged (main first %v): ledger\n%s", round, mainFirst, merged.ledger))
		s.commit(merged)
		for _, db := range []*simDB{main.db, b.db, a.db, newSimDB()} {
			s.apply(db, merged)
			for f, c := range merged.files {
				if strings.HasPrefix(f, "R__") && db.content[f] != c {
					s.fail("a database ends with %s = %q, the merge has %q", f, db.content[f], c)
				}
			}
		}
		merged.db = main.db
		main = merged
	}
}

func newSimDB() *simDB { return &simDB{applied: map[string]bool{}, content: map[string]string{}} }

func (b *simBranch) clone() *simBranch {
	files := map[string]string{}
	for k, v := range b.files {
		files[k] = v
	}
	return &simBranch{files: files, ledger: append([]byte(nil), b.ledger...), db: b.db}
}

// fork is a new branch whose database is a copy of the parent's.
func (b *simBranch) fork() *simBranch {
	c := b.clone()
	db := newSimDB()
	for k, v := range b.db.applied {
		db.applied[k] = v
	}
	for k, v := range b.db.content {
		db.content[k] = v
	}
	c.db = db
	return c
}

var simContents = []string{"SELECT 1;\n", "SELECT 2;\n", "SELECT 3;\n"}

func (s *branchSim) change(b *simBranch, name string) {
	var reps []string
	for f := range b.files {
		if strings.HasPrefix(f, "R__") {
			reps = append(reps, f)
		}
	}
	sort.Strings(reps)
	switch op := s.r.IntN(5); {
	case op == 0:
		s.version++
		f := fmt.Sprintf("V%d__v.sql", s.version)
		b.files[f] = fmt.Sprintf("CREATE TABLE t%d (a int);\n", s.version)
		s.log = append(s.log, name+": add "+f)
	case op == 1 && len(reps) < 3:
		f := fmt.Sprintf("R__%c.sql", 'a'+len(reps))
		b.files[f] = simContents[s.r.IntN(len(simContents))]
		s.log = append(s.log, name+": add "+f+" "+b.files[f])
	default: // edit or revert: few contents, so both happen, and two branches meet on one
		f := reps[s.r.IntN(len(reps))]
		b.files[f] = simContents[s.r.IntN(len(simContents))]
		s.log = append(s.log, name+": "+f+" = "+b.files[f])
	}
	s.commit(b)
	s.apply(b.db, b)
}

// commit converts the branch's directory and records its ledger, which must be a fixed point.
func (s *branchSim) commit(b *simBranch) *Dir {
	s.t.Helper()
	d := s.read(b)
	b.ledger = d.Ledger
	again := s.read(b)
	if err := again.CheckLedger(); err != nil {
		s.fail("the recorded ledger is no fixed point: %v", err)
	}
	if strings.Join(again.Versions(), " ") != strings.Join(d.Versions(), " ") {
		s.fail("names changed once recorded: %v -> %v", d.Versions(), again.Versions())
	}
	return d
}

func (s *branchSim) read(b *simBranch) *Dir {
	s.t.Helper()
	fsys := fstest.MapFS{}
	for k, v := range b.files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	if b.ledger != nil {
		fsys[LedgerFile] = &fstest.MapFile{Data: b.ledger}
	}
	d, err := ReadFS(fsys, Options{Format: FormatFlyway})
	if err != nil {
		s.fail("read: %v", err)
	}
	return d
}

// apply is the operator's sync of the branch's recorded directory on db.
func (s *branchSim) apply(db *simDB, b *simBranch) {
	s.t.Helper()
	d := s.read(b)
	if err := d.CheckLedger(); err != nil {
		s.fail("applying an unrecorded directory: %v", err)
	}
	names := d.Versions()
	marker := names[len(names)-1]
	var newest string
	pending := false
	for v := range db.applied {
		newest = max(newest, v)
	}
	files := map[string]bool{}
	for _, f := range d.Files {
		if f.Name == SumFile {
			continue
		}
		v := migrate.NewLocalFile(f.Name, nil).Version()
		files[v] = true
		if db.applied[v] {
			continue
		}
		pending = pending || f.Source != LedgerFile // placeholders run nothing
		db.applied[v] = true
		if f.Rerun {
			db.content[f.Source] = b.files[f.Source]
		}
	}
	if pending && newest >= marker {
		s.fail("pending files, but the marker %s does not sort after the newest recorded version %s: atlas migrate status lists nothing", marker, newest)
	}
	for v := range db.applied {
		if !files[v] {
			s.fail("the database recorded %s, which the directory has no file for (the operator would migrate down: Degraded)", v)
		}
	}
}

// merge merges theirs into ours from base: files by Git's three-way rule (a repeatable both
// edited differently resolved at random), the ledger by `git merge-file --union`.
func (s *branchSim) merge(base, ours, theirs *simBranch) *simBranch {
	s.t.Helper()
	out := &simBranch{files: map[string]string{}}
	paths := map[string]bool{}
	for _, m := range []map[string]string{ours.files, theirs.files} {
		for k := range m {
			paths[k] = true
		}
	}
	for p := range paths {
		o, t, b := ours.files[p], theirs.files[p], base.files[p]
		switch {
		case o == t, t == b:
			out.files[p] = o
		case o == b:
			out.files[p] = t
		default:
			switch s.r.IntN(3) {
			case 0:
				out.files[p] = o
			case 1:
				out.files[p] = t
			default:
				out.files[p] = simContents[s.r.IntN(len(simContents))]
			}
			s.log = append(s.log, "conflict "+p+" resolved to "+out.files[p])
		}
	}
	dir := s.t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(s.t, os.WriteFile(p, b, 0o644))
		return p
	}
	po, pb, pt := write("ours", ours.ledger), write("base", base.ledger), write("theirs", theirs.ledger)
	cmd := exec.Command(s.git, "merge-file", "--union", po, pb, pt)
	if b, err := cmd.CombinedOutput(); err != nil {
		s.fail("git merge-file --union: %v: %s", err, b)
	}
	merged, err := os.ReadFile(po)
	require.NoError(s.t, err)
	out.ledger = merged
	return out
}
