package migdir_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

// Teams edit repeatables on branches. These tests make a real Git repository, convert each
// commit with the real `kubectl atlas init` and `configmap` (which record the ledger and keep
// `kubectl-atlas.ledger merge=union` in the directory's .gitattributes), merge the branches
// with git, record the merged tree, and apply every step with atlas's executor on a real
// PostgreSQL: main's database (which applied branch a, merged first), a preview database that
// followed branch b, and a new one. Each merge runs both ways: b merged into main, and main
// merged into b, then main fast-forwarded (the union lists the other side's lines first).
// ledger_merge_property_test.go checks the same rules on random histories.

// TestRerunBranchesPostgres merges branches that edit repeatables.
func TestRerunBranchesPostgres(t *testing.T) {
	git := gitBinary(t)
	srv, err := databases.StartPostgres(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	for _, mainFirst := range []bool{true, false} {
		how := map[bool]string{true: "b merged into main", false: "main merged into b"}[mainFirst]
		t.Run("two repeatables edited, "+how, func(t *testing.T) { branchesTwoRepeatables(t, git, srv, mainFirst) })
		t.Run("both branches reach one content by other paths, "+how, func(t *testing.T) { branchesSameContent(t, git, srv, mainFirst) })
		t.Run("liquibase runOnChange changesets edited on two branches, "+how, func(t *testing.T) { branchesLiquibase(t, git, srv, mainFirst) })
		for _, res := range []string{"both", "a", "b"} {
			t.Run("one repeatable edited on both, resolved to "+res+", "+how, func(t *testing.T) {
				branchesSameRepeatable(t, git, srv, mainFirst, res)
			})
		}
	}
}

// gitBinary is git; a missing git fails the test (it never skips).
func gitBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	require.NoError(t, err, "the branch tests merge with git: install it")
	return p
}

// gitRepo is a repository whose db/migration holds a Flyway directory.
type gitRepo struct {
	t        *testing.T
	git, dir string
	mig      string
}

func newGitRepo(t *testing.T, git string) *gitRepo {
	t.Helper()
	g := &gitRepo{t: t, git: git, dir: t.TempDir()}
	g.mig = filepath.Join(g.dir, "db", "migration")
	require.NoError(t, os.MkdirAll(g.mig, 0o755))
	g.run("init", "-q", "-b", "main")
	return g
}

// try runs git in the repository, isolated from the user's and the system's configuration.
func (g *gitRepo) try(args ...string) (string, error) {
	cmd := exec.Command(g.git, append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "-c", "merge.conflictStyle=merge"}, args...)...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+g.dir, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (g *gitRepo) run(args ...string) string {
	g.t.Helper()
	out, err := g.try(args...)
	require.NoError(g.t, err, "git %v: %s", args, out)
	return out
}

func (g *gitRepo) write(files map[string]string) {
	g.t.Helper()
	writeFiles(g.t, g.mig, files)
}

// atlas runs kubectl-atlas as main does and returns stderr; the exit code must be want.
func (g *gitRepo) atlas(want int, args ...string) string {
	g.t.Helper()
	var out, errOut bytes.Buffer
	cmd := plugin.NewCmdAtlas(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	require.Equal(g.t, want, exitcode.Code(err), "kubectl atlas %v: %s", args, errOut.String())
	return errOut.String()
}

// convert runs init or configmap on the directory and commits what it wrote; the converted
// directory must then read without new ledger entries.
func (g *gitRepo) convert(verb, msg string) (*migdir.Dir, string) {
	g.t.Helper()
	var stderr string
	if verb == "init" {
		stderr = g.atlas(0, "init", "--dir", g.mig, "--name", "app", "--out", filepath.Join(g.t.TempDir(), "gitops"))
	} else {
		stderr = g.atlas(0, "configmap", "--dir", g.mig, "--name", "app-migrations")
	}
	g.run("add", "-A")
	g.run("commit", "-q", "--allow-empty", "-m", msg)
	d := read(g.t, g.mig, "")
	require.NoError(g.t, d.CheckLedger())
	again := read(g.t, g.mig, "")
	require.Equal(g.t, d.Versions(), again.Versions())
	return d, stderr
}

func (g *gitRepo) ledger() string {
	g.t.Helper()
	b, err := os.ReadFile(filepath.Join(g.mig, migdir.LedgerFile))
	require.NoError(g.t, err)
	return string(b)
}

// show is a file of db/migration at a revision.
func (g *gitRepo) show(rev, name string) string {
	g.t.Helper()
	return g.run("show", rev+":db/migration/"+name)
}

func ledgerLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func viewSQL(view, cols string) string {
	return "DROP VIEW IF EXISTS " + view + ";\nCREATE VIEW " + view + " AS SELECT " + cols + " FROM t;\n"
}

func (tg *target) columns(t *testing.T, view string) string {
	t.Helper()
	return strings.Join(tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = '"+view+"' ORDER BY ordinal_position"), ",")
}

// branch makes branch name from main, writes files, converts with configmap and commits.
func (g *gitRepo) branch(name string, files map[string]string) *migdir.Dir {
	g.t.Helper()
	g.run("checkout", "-q", "-b", name, "main")
	g.write(files)
	d, stderr := g.convert("configmap", name)
	require.NotContains(g.t, stderr, ".gitattributes", "init wrote it on main already")
	return d
}

// mergeB merges branch b into main (a already fast-forwarded), or main into b and then
// fast-forwards main; it returns git's output and error.
func (g *gitRepo) mergeB(mainFirst bool) (string, error) {
	g.t.Helper()
	if mainFirst {
		g.run("checkout", "-q", "main")
		return g.try("merge", "--no-edit", "b")
	}
	g.run("checkout", "-q", "b")
	return g.try("merge", "--no-edit", "main")
}

// finishMerge commits a resolved merge (if any) and, when main was merged into b,
// fast-forwards main.
func (g *gitRepo) finishMerge(mainFirst, conflicted bool) {
	g.t.Helper()
	if conflicted {
		g.run("add", "-A")
		g.run("commit", "-q", "--no-edit")
	}
	if !mainFirst {
		g.run("checkout", "-q", "main")
		g.run("merge", "-q", "--ff-only", "b")
	}
}

// recordMerge checks the merged ledger keeps both branches' lines, that the read-only entry
// points refuse the merged tree until its change is recorded (unless the tree is one side's
// and that side's marker sorts last: then nothing is new), records it with configmap and
// checks the result is a fixed point. needed says whether the merge needed recording.
func (g *gitRepo) recordMerge(branchLedgers ...string) (rec *migdir.Dir, needed bool) {
	g.t.Helper()
	merged := g.ledger()
	lines := ledgerLines(merged)
	for _, l := range branchLedgers {
		require.Subset(g.t, lines, ledgerLines(l), "the union keeps every line of both branches")
	}
	d := read(g.t, g.mig, "")
	if err := d.CheckLedger(); err != nil {
		var le *migdir.LedgerError
		require.ErrorAs(g.t, err, &le)
		stderr := g.atlas(1, "configmap", "--dir", g.mig, "--name", "x", "--write-ledger=false")
		require.Contains(g.t, stderr, "after a Git merge: on the merged tree")
		needed = true
	}
	rec, _ = g.convert("configmap", "record the merge")
	require.True(g.t, strings.HasPrefix(g.ledger(), merged), "recording only appends")
	require.Equal(g.t, !needed, g.ledger() == merged)
	return rec, needed
}

// branchesTwoRepeatables: branch a adds a column (V2) and edits R__a_view to select it,
// branch b edits R__b_view. The ledger merges without a conflict; every database ends with
// both edits, V2 before the view that needs it.
func branchesTwoRepeatables(t *testing.T, git string, srv *databases.Server, mainFirst bool) {
	g := newGitRepo(t, git)
	g.write(map[string]string{
		"V1__t.sql":     "CREATE TABLE t (a int, b int, c int);\n",
		"R__a_view.sql": viewSQL("a_view", "a"),
		"R__b_view.sql": viewSQL("b_view", "b"),
	})
	base, stderr := g.convert("init", "base")
	require.Contains(t, stderr, "note: wrote `kubectl-atlas.ledger merge=union` to "+filepath.Join(g.mig, ".gitattributes"))
	attrs, err := os.ReadFile(filepath.Join(g.mig, ".gitattributes"))
	require.NoError(t, err)
	require.Equal(t, migdir.GitAttributesLine+"\n", string(attrs))
	require.Equal(t, "merge: union\n", strings.TrimPrefix(g.run("check-attr", "merge", "--", "db/migration/"+migdir.LedgerFile), "db/migration/"+migdir.LedgerFile+": "))

	suffix := map[bool]string{true: "m", false: "b"}[mainFirst]
	mainDB, previewB, fresh := newTarget(t, srv, "two_main_"+suffix), newTarget(t, srv, "two_b_"+suffix), newTarget(t, srv, "two_new_"+suffix)
	for _, tg := range []*target{mainDB, previewB} {
		tg.apply(t, writeConverted(t, base), nonLinear)
		tg.settled(t, base)
	}

	a := g.branch("a", map[string]string{
		"V2__d.sql":     "ALTER TABLE t ADD COLUMN d int;\n",
		"R__a_view.sql": viewSQL("a_view", "a, d"),
	})
	b := g.branch("b", map[string]string{"R__b_view.sql": viewSQL("b_view", "b, c")})
	previewB.apply(t, writeConverted(t, b), nonLinear)
	previewB.settled(t, b)
	g.run("checkout", "-q", "main")
	g.run("merge", "-q", "--ff-only", "a")
	mainDB.apply(t, writeConverted(t, a), nonLinear)
	mainDB.settled(t, a)

	// Without the union driver the two branches' lines conflict, and the ledger with Git's
	// conflict markers is refused, naming the line.
	baseLedger, aLedger, bLedger := g.show("a~1", migdir.LedgerFile), g.show("a", migdir.LedgerFile), g.show("b", migdir.LedgerFile)
	plain, conflicts := mergeFile(t, git, false, aLedger, baseLedger, bLedger)
	require.Equal(t, 1, conflicts)
	union, _ := mergeFile(t, git, true, aLedger, baseLedger, bLedger)

	out, err := g.mergeB(mainFirst)
	require.NoError(t, err, "the ledger merges by union, nothing else conflicts: %s", out)
	g.finishMerge(mainFirst, false)
	if mainFirst {
		require.Equal(t, union, g.ledger(), "git merge with the directory's .gitattributes is git merge-file --union")
	}
	checkPlainMergeRefused(t, g, plain, union, repeatableVersion(t, a, "R__a_view.sql"))

	merged, needed := g.recordMerge(aLedger, bLedger)
	require.True(t, needed, "the merged tree is neither branch's: it needs a change marker of its own")
	aView, bView := repeatableVersion(t, merged, "R__a_view.sql"), repeatableVersion(t, merged, "R__b_view.sql")
	require.Equal(t, repeatableVersion(t, a, "R__a_view.sql"), aView, "a's edit keeps its name")
	require.Equal(t, repeatableVersion(t, b, "R__b_view.sql"), bView, "b's edit keeps its name")

	require.Equal(t, []string{bView}, withStatements(merged, mainDB.apply(t, writeConverted(t, merged), nonLinear)), "main's database runs b's edit")
	got := withStatements(merged, previewB.apply(t, writeConverted(t, merged), nonLinear))
	require.Equal(t, []string{"a2", aView}, got, "b's database runs V2, then a's edit that needs it")
	require.Len(t, fresh.apply(t, writeConverted(t, merged), nonLinear), len(merged.Versions()))
	for _, tg := range []*target{mainDB, previewB, fresh} {
		require.Equal(t, "a,d", tg.columns(t, "a_view"))
		require.Equal(t, "b,c", tg.columns(t, "b_view"))
		tg.settled(t, merged)
	}
}

// branchesSameRepeatable: both branches edit R__v (a with a new column V2 it selects); the
// SQL file conflicts and is resolved to res (both edits, a's, b's); the ledger merges by
// union. Every database ends with the resolved view.
func branchesSameRepeatable(t *testing.T, git string, srv *databases.Server, mainFirst bool, res string) {
	g := newGitRepo(t, git)
	g.write(map[string]string{"V1__t.sql": "CREATE TABLE t (a int, b int, c int);\n", "R__v.sql": viewSQL("v", "a")})
	base, _ := g.convert("init", "base")
	suffix := map[bool]string{true: "m", false: "b"}[mainFirst] + "_" + res
	mainDB, previewB, fresh := newTarget(t, srv, "same_main_"+suffix), newTarget(t, srv, "same_b_"+suffix), newTarget(t, srv, "same_new_"+suffix)
	for _, tg := range []*target{mainDB, previewB} {
		tg.apply(t, writeConverted(t, base), nonLinear)
	}
	a := g.branch("a", map[string]string{"V2__d.sql": "ALTER TABLE t ADD COLUMN d int;\n", "R__v.sql": viewSQL("v", "a, d")})
	b := g.branch("b", map[string]string{"R__v.sql": viewSQL("v", "a, b")})
	previewB.apply(t, writeConverted(t, b), nonLinear)
	require.Equal(t, "a,b", previewB.columns(t, "v"))
	g.run("checkout", "-q", "main")
	g.run("merge", "-q", "--ff-only", "a")
	mainDB.apply(t, writeConverted(t, a), nonLinear)
	require.Equal(t, "a,d", mainDB.columns(t, "v"))

	out, err := g.mergeB(mainFirst)
	require.Error(t, err, "R__v.sql conflicts: %s", out)
	require.Equal(t, "db/migration/R__v.sql\n", g.run("diff", "--name-only", "--diff-filter=U"), "only the SQL file conflicts; the ledger merged by union")
	want := map[string]string{"both": "a,b,d", "a": "a,d", "b": "a,b"}[res]
	g.write(map[string]string{"R__v.sql": viewSQL("v", strings.ReplaceAll(want, ",", ", "))})
	g.finishMerge(mainFirst, true)

	merged, _ := g.recordMerge(g.show("a", migdir.LedgerFile), g.show("b", migdir.LedgerFile))
	v := repeatableVersion(t, merged, "R__v.sql")
	for _, c := range []struct {
		name string
		tg   *target
		had  string
	}{{"main", mainDB, "a,d"}, {"b", previewB, "a,b"}, {"new", fresh, ""}} {
		ran := withStatements(merged, c.tg.apply(t, writeConverted(t, merged), nonLinear))
		if c.had != want {
			require.Contains(t, ran, v, "%s's database had another view: it runs the resolved one", c.name)
		}
		if i := slices.Index(ran, "a2"); i >= 0 && slices.Contains(ran, v) {
			require.Less(t, i, slices.Index(ran, v), "V2 before the view that selects its column")
		}
		require.Equal(t, want, c.tg.columns(t, "v"), c.name)
		c.tg.settled(t, merged)
	}
}

// branchesSameContent: branch a edits R__v to P, then to Q; branch b edits it to R, then to
// P; the merge keeps P. Main's database (which followed a) last ran Q, so P must run again on
// it, although the ledger's last line for R__v (b's, listed last when b is merged into main)
// names P: a name stays only if no other content of its file follows its first line.
func branchesSameContent(t *testing.T, git string, srv *databases.Server, mainFirst bool) {
	g := newGitRepo(t, git)
	g.write(map[string]string{"V1__t.sql": "CREATE TABLE t (a int, b int, c int);\n", "R__v.sql": viewSQL("v", "a")})
	base, _ := g.convert("init", "base")
	suffix := map[bool]string{true: "m", false: "b"}[mainFirst]
	mainDB, previewB, fresh := newTarget(t, srv, "path_main_"+suffix), newTarget(t, srv, "path_b_"+suffix), newTarget(t, srv, "path_new_"+suffix)
	for _, tg := range []*target{mainDB, previewB} {
		tg.apply(t, writeConverted(t, base), nonLinear)
	}
	p, q, r := viewSQL("v", "a, b"), viewSQL("v", "a, c"), viewSQL("v", "a, b, c")
	mainDB.apply(t, writeConverted(t, g.branch("a", map[string]string{"R__v.sql": p})), nonLinear)
	g.write(map[string]string{"R__v.sql": q})
	a, _ := g.convert("configmap", "a: Q")
	mainDB.apply(t, writeConverted(t, a), nonLinear)
	require.Equal(t, "a,c", mainDB.columns(t, "v"))
	previewB.apply(t, writeConverted(t, g.branch("b", map[string]string{"R__v.sql": r})), nonLinear)
	g.write(map[string]string{"R__v.sql": p})
	b, _ := g.convert("configmap", "b: P")
	previewB.apply(t, writeConverted(t, b), nonLinear)
	require.Equal(t, "a,b", previewB.columns(t, "v"))
	g.run("checkout", "-q", "main")
	g.run("merge", "-q", "--ff-only", "a")

	out, err := g.mergeB(mainFirst)
	require.Error(t, err, "R__v.sql conflicts: %s", out)
	g.write(map[string]string{"R__v.sql": p})
	g.finishMerge(mainFirst, true)
	merged, _ := g.recordMerge(g.show("a", migdir.LedgerFile), g.show("b", migdir.LedgerFile))
	require.Contains(t, withStatements(merged, mainDB.apply(t, writeConverted(t, merged), nonLinear)), repeatableVersion(t, merged, "R__v.sql"))
	previewB.apply(t, writeConverted(t, merged), nonLinear)
	fresh.apply(t, writeConverted(t, merged), nonLinear)
	for _, tg := range []*target{mainDB, previewB, fresh} {
		require.Equal(t, "a,b", tg.columns(t, "v"))
		tg.settled(t, merged)
	}
}

// branchesLiquibase: the same with Liquibase formatted SQL (the format detected, as init and
// configmap detect it): branch a edits 001's runOnChange view and adds 003, branch b edits 002's
// runOnChange changeset. Every database ends with both edits, a's edited changeset in its place
// in the changelog (before 003, where Liquibase runs it), and b's run again on main's database.
func branchesLiquibase(t *testing.T, git string, srv *databases.Server, mainFirst bool) {
	g := newGitRepo(t, git)
	usersView := func(cols string) string {
		return "--liquibase formatted sql\n--changeset alice:1\nCREATE TABLE users (id int PRIMARY KEY, name text);\n--changeset alice:2 runOnChange:true\nCREATE OR REPLACE VIEW user_names AS SELECT " + cols + " FROM users;\n"
	}
	grants := func(what string) string {
		return "--liquibase formatted sql\n--changeset bob:3\nCREATE TABLE log (what text);\n--changeset bob:4 runOnChange:true\nINSERT INTO log VALUES ('" + what + "');\n"
	}
	g.write(map[string]string{"001_users.sql": usersView("id, name"), "002_log.sql": grants("first")})
	base, _ := g.convert("init", "base")
	suffix := map[bool]string{true: "m", false: "b"}[mainFirst]
	mainDB, previewB, fresh := newTarget(t, srv, "lb_main_"+suffix), newTarget(t, srv, "lb_b_"+suffix), newTarget(t, srv, "lb_new_"+suffix)
	for _, tg := range []*target{mainDB, previewB} {
		tg.apply(t, writeConverted(t, base), nonLinear)
	}
	a := g.branch("a", map[string]string{
		"003_email.sql": "--liquibase formatted sql\n--changeset carol:5\nALTER TABLE users ADD COLUMN email text;\n",
		"001_users.sql": usersView("id, name, length(name) AS len"),
	})
	b := g.branch("b", map[string]string{"002_log.sql": grants("second")})
	previewB.apply(t, writeConverted(t, b), nonLinear)
	g.run("checkout", "-q", "main")
	g.run("merge", "-q", "--ff-only", "a")
	mainDB.apply(t, writeConverted(t, a), nonLinear)

	out, err := g.mergeB(mainFirst)
	require.NoError(t, err, "the ledger merges by union, nothing else conflicts: %s", out)
	g.finishMerge(mainFirst, false)
	merged, needed := g.recordMerge(g.show("a", migdir.LedgerFile), g.show("b", migdir.LedgerFile))
	require.True(t, needed)
	require.Equal(t, migdir.FormatLiquibase, merged.Format)
	fresh.apply(t, writeConverted(t, merged), nonLinear)
	for name, tg := range map[string]*target{"main": mainDB, "b": previewB, "new": fresh} {
		ran := withStatements(merged, tg.apply(t, writeConverted(t, merged), nonLinear))
		if name == "b" {
			require.Len(t, ran, 2, "001's edited view, then 003: %v", ran)
			require.True(t, strings.HasPrefix(ran[0], "001a1-"), ran[0])
			require.Equal(t, "003", ran[1])
		}
		if name == "main" {
			require.Len(t, ran, 1, "002's edited changeset: %v", ran)
			require.True(t, strings.HasPrefix(ran[0], "002a1-"), ran[0])
		}
		require.Equal(t, "id,name,len", tg.columns(t, "user_names"), name)
		require.Equal(t, []string{"email"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"), name)
		require.Equal(t, "second", tg.query(t, "SELECT what FROM log ORDER BY what DESC LIMIT 1")[0], name)
		tg.settled(t, merged)
	}
	require.Equal(t, []string{"first", "second"}, mainDB.query(t, "SELECT what FROM log ORDER BY what"), "main's database ran b's changeset again once")
	require.Equal(t, []string{"second"}, fresh.query(t, "SELECT what FROM log ORDER BY what"))
}

// withStatements keeps the applied versions that are not the ledger's placeholders or marker.
func withStatements(d *migdir.Dir, applied []string) []string {
	ledger := map[string]bool{}
	for _, v := range kept(d) {
		ledger[v] = true
	}
	var out []string
	for _, v := range applied {
		if !ledger[v] {
			out = append(out, v)
		}
	}
	return out
}

// mergeFile is `git merge-file` of three versions of the ledger (with --union or not): the
// result and the number of conflicts.
func mergeFile(t *testing.T, git string, union bool, ours, base, theirs string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, c := range []string{ours, base, theirs} {
		p := filepath.Join(dir, []string{"ours", "base", "theirs"}[i])
		require.NoError(t, os.WriteFile(p, []byte(c), 0o644))
		paths = append(paths, p)
	}
	args := []string{"merge-file", "-p"}
	if union {
		args = append(args, "--union")
	}
	cmd := exec.Command(git, append(args, paths...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee, stderr.String())
		return stdout.String(), ee.ExitCode()
	}
	return stdout.String(), 0
}

// checkPlainMergeRefused reads the merged tree with the ledger as a merge without the union
// driver leaves it (conflict markers), and with a line of one side deleted: both are errors
// naming the line; the union reads. union lists a's lines first; aView is a's edit.
func checkPlainMergeRefused(t *testing.T, g *gitRepo, plain, union, aView string) {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(g.mig)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(g.mig, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	readWith := func(ledger string) error {
		require.NoError(t, os.WriteFile(filepath.Join(dir, migdir.LedgerFile), []byte(ledger), 0o644))
		_, err := migdir.Read(dir, migdir.Options{Format: migdir.FormatFlyway})
		return err
	}
	lines := strings.Split(plain, "\n")
	marker := 1 + slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "<<<<<<<") })
	require.Positive(t, marker)
	err = readWith(plain)
	require.ErrorContains(t, err, migdir.LedgerFile+":"+strconv.Itoa(marker)+": a Git merge conflict marker")
	require.ErrorContains(t, err, "keep every ledger line of both sides")
	require.ErrorContains(t, err, migdir.GitAttributesLine)
	fixed := slices.DeleteFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "<<<<<<<") || strings.HasPrefix(l, "=======") || strings.HasPrefix(l, ">>>>>>>")
	})
	require.NoError(t, readWith(strings.Join(fixed, "\n")), "the fix the error gives")
	require.NoError(t, readWith(union))

	// a's line of its edit dropped (a side's lines removed by hand), a's marker kept: the
	// marker's number says that a line before it is gone.
	lines = strings.Split(union, "\n")
	drop := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, aView+"_") })
	require.Positive(t, drop)
	require.True(t, strings.HasPrefix(lines[drop+1], "zz"), "a's marker follows its edit: %s", lines[drop+1])
	err = readWith(strings.Join(slices.Delete(slices.Clone(lines), drop, drop+1), "\n"))
	require.ErrorContains(t, err, migdir.LedgerFile+":"+strconv.Itoa(drop+1)+": "+strings.Fields(lines[drop+1])[0]+" was the ledger's entry number")
	require.ErrorContains(t, err, "lines were removed")
	require.ErrorContains(t, err, "git log -p -- "+migdir.LedgerFile)
}
