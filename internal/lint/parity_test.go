package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

// Parity with atlas itself: the same directory is linted by the community `atlas migrate lint`
// v1.2.3 (bin/atlas-community, built by `make atlas`) and by Run, on the same dev database, and
// the findings must be equal: file, line, code and text, and atlas fails (exit 1) exactly when
// Run reports an error-severity finding. A converted directory is given to atlas as the atlas
// directory it converts to; atlas's positions are mapped to the original files the same way as
// Run's, so the comparison covers replay and analysis on the very same statements.

// atlasBin is the community atlas CLI; a missing binary fails the test (it never skips).
func atlasBin(t *testing.T) string {
	t.Helper()
	p, err := operator.CommunityAtlas()
	require.NoError(t, err)
	return p
}

// atlasFile is the part of atlas's report (`--format '{{ json .Files }}'`) compared here.
type atlasFile struct {
	Name    string
	Text    string
	Error   string
	Reports []struct {
		Text        string
		Diagnostics []struct {
			Pos  int
			Text string
			Code string
		}
	}
}

// atlasLint runs `atlas migrate lint` on the atlas directory dir and returns its file reports
// and whether it failed.
func atlasLint(t *testing.T, dir, devURL string, sel Options) ([]atlasFile, bool) {
	t.Helper()
	args := []string{"migrate", "lint", "--dir", "file://" + dir, "--dev-url", devURL, "--format", "{{ json .Files }}"}
	latest := sel.Latest
	switch {
	case sel.GitBase != "":
		args = append(args, "--git-base", sel.GitBase, "--git-dir", dir)
	case latest <= 0:
		latest = 1 << 20 // atlas wants one of --latest/--git-base: every file
		fallthrough
	default:
		args = append(args, "--latest", fmt.Sprint(latest))
	}
	cmd := exec.Command(atlasBin(t), args...)
	cmd.Env = append(os.Environ(), "ATLAS_NO_UPGRADE_SUGGESTIONS=1", "ATLAS_NO_ANON_TELEMETRY=true", "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	failed := err != nil
	if ee := (*exec.ExitError)(nil); err != nil && !errorAs(err, &ee) {
		t.Fatalf("atlas: %v", err)
	}
	var files []atlasFile
	out := bytes.TrimSpace(stdout.Bytes())
	require.NoError(t, json.Unmarshal(out, &files), "atlas stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	return files, failed
}

func errorAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// parityCase is one directory in atlas format, linted with --latest (0: every file).
type parityCase struct {
	name   string
	files  []string // contents of 1.sql, 2.sql, ...
	latest int
	want   []string // the codes atlas reports (to show the case exercises its analyzer)
}

// writeAtlasDir writes files as an atlas directory with atlas.sum.
func writeAtlasDir(t *testing.T, files []migdir.File) string {
	t.Helper()
	dir := t.TempDir()
	ld, err := migrate.NewLocalDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		require.NoError(t, ld.WriteFile(f.Name, f.Data))
	}
	sum, err := ld.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(ld, sum))
	return dir
}

func numbered(contents []string) []migdir.File {
	out := make([]migdir.File, len(contents))
	for i, c := range contents {
		out[i] = migdir.File{Name: fmt.Sprintf("%d_f.sql", i+1), Data: []byte(c)}
	}
	return out
}

// checkParity lints d (read from disk) with Run and its atlas form with atlas on devURL (Run on
// ourURL when given: the same database under another scheme).
// sel selects the files (Latest or GitBase; with GitBase d must be an atlas directory in a Git
// work tree, given to atlas as it is).
func checkParity(t *testing.T, d *migdir.Dir, devURL string, sel Options, want []string, ourURL ...string) {
	t.Helper()
	ctx := context.Background()
	files, err := loadFiles(d)
	require.NoError(t, err)
	var sqlFiles []migdir.File
	for _, f := range d.Files {
		if f.Name != migdir.SumFile {
			sqlFiles = append(sqlFiles, f)
		}
	}
	atlasDir := d.Path
	if sel.GitBase == "" {
		atlasDir = writeAtlasDir(t, sqlFiles)
	}
	reports, atlasFailed := atlasLint(t, atlasDir, devURL, sel)

	var theirs []string
	for _, r := range reports {
		if r.Error != "" && len(r.Reports) == 0 {
			t.Fatalf("atlas failed on %s: %s", r.Name, r.Error)
		}
		var f *file
		for _, x := range files {
			if x.Name() == r.Name {
				f = x
			}
		}
		require.NotNil(t, f, "atlas reported unknown file %s", r.Name)
		for _, rep := range r.Reports {
			for _, dg := range rep.Diagnostics {
				theirs = append(theirs, fmt.Sprintf("%s:%d %s %s", f.Source, f.line(dg.Pos), dg.Code, dg.Text))
			}
		}
	}
	if len(ourURL) > 0 {
		devURL = ourURL[0]
	}
	dev, err := OpenDev(ctx, devURL)
	require.NoError(t, err)
	defer dev.Close()
	sel.Dev = dev
	res, err := Run(ctx, d, sel)
	require.NoError(t, err)
	var ours, codes []string
	for _, f := range res.Findings {
		ours = append(ours, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Code, f.Text))
		codes = append(codes, f.Code)
	}
	sort.Strings(theirs)
	sort.Strings(ours)
	require.Equal(t, theirs, ours, "findings differ from atlas migrate lint")
	require.Equal(t, atlasFailed, res.Count(Error) > 0, "atlas failed=%v, our error findings=%d", atlasFailed, res.Count(Error))
	sort.Strings(codes)
	sort.Strings(want)
	require.Equal(t, want, codes, "the case no longer exercises what it was written for")
}

func runCorpus(t *testing.T, cases []parityCase, devURL func(t *testing.T, name string) string) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeAtlasDir(t, numbered(c.files))
			d, err := migdir.Read(dir, migdir.Options{Format: migdir.FormatAtlas})
			require.NoError(t, err)
			checkParity(t, d, devURL(t, c.name), Options{Latest: c.latest}, c.want)
		})
	}
}

// dbName turns a case name into a database name.
func dbName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "lint_" + b.String()
}
