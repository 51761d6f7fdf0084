package generate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/lint"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// warnings are the warnings of res as an entry point without fixes prints them.
func warnings(res *Result) string {
	var w strings.Builder
	for _, d := range res.Diagnostics {
		if d.Severity == diag.Warning {
			w.WriteString(diag.Fixes{}.Phrase(d) + "\n")
		}
	}
	return w.String()
}

// TestReportDestructive: every entry point reports destructive changes the same way, one
// warning per statement, files named below the directory as the user named it, then a
// *migdir.DestructiveError when they are denied.
func TestReportDestructive(t *testing.T) {
	req := Request{Options: scaffold.Options{Name: "app"}, Dir: "../migdir/testdata/atlas", DirShown: "testdata/atlas", ConfigMapOnly: true}
	res, err := Generate(req)
	require.NoError(t, err)
	assert.Equal(t, "warning: testdata/atlas/20240103000000_drop_legacy.sql:3: DS103: drops column email of table users and its data\n"+
		"warning: testdata/atlas/20240103000000_drop_legacy.sql:4: DS102: drops table legacy and its data\n", warnings(res))

	req.ConfigMapOnly, req.Options.DenyDestructive = false, true
	res, err = Generate(req)
	var de *migdir.DestructiveError
	require.ErrorAs(t, err, &de)
	assert.Len(t, de.Diagnostics, 2)
	assert.Equal(t, "2 destructive change(s) in testdata/atlas: review them; silence one intended change with `-- atlas:nolint DS103` above its statement", err.Error())
	assert.Equal(t, 2, strings.Count(warnings(res), "warning: "), "warnings come before the refusal")

	clean := t.TempDir()
	f := migrate.NewLocalFile("1_a.sql", []byte("CREATE TABLE a (id int);\n"))
	hf, err := migrate.NewHashFile([]migrate.File{f})
	require.NoError(t, err)
	sum, err := hf.MarshalText()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(clean, f.Name()), f.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(clean, migdir.SumFile), sum, 0o644))
	res, err = Generate(Request{Options: scaffold.Options{Name: "app", DenyDestructive: true}, Dir: clean})
	require.NoError(t, err)
	assert.Empty(t, warnings(res))
}

// TestTerms: an entry point names inputs and phrases fixes in its own words.
func TestTerms(t *testing.T) {
	terms := Terms{Inputs: map[string]string{InputBaseline: "--baseline"}, Fixes: diag.Fixes{CodeRehashed: "--hash: %s", "x": "do y"}}
	assert.Equal(t, "note: --hash: atlas.sum computed", terms.Phrase(diag.Diagnostic{Code: CodeRehashed, Message: "atlas.sum computed"}))
	assert.Equal(t, "warning: a.sql:2: x happened: do y", terms.Phrase(diag.Diagnostic{Severity: diag.Warning, Code: "x", File: "a.sql", Line: 2, Message: "x happened"}))
	res, err := Generate(Request{Options: scaffold.Options{Name: "app"}, Dir: "../migdir/testdata/atlas", Baseline: "nope", ConfigMapOnly: true})
	require.Error(t, err)
	assert.Nil(t, res.Objects)
	assert.True(t, strings.HasPrefix(terms.Error(err).Error(), "--baseline: ../migdir/testdata/atlas: "), terms.Error(err).Error())
}

// TestLintWith: with a dev database the analyzers judge the directory instead of the text
// check: a table created and dropped in one file is not destructive, a unique index on existing
// data is reported (MF101, a warning that is never denied), a dropped column is (DS103, denied).
func TestLintWith(t *testing.T) {
	dir := t.TempDir()
	ld, err := migrate.NewLocalDir(dir)
	require.NoError(t, err)
	require.NoError(t, ld.WriteFile("1_a.sql", []byte("CREATE TABLE t (id int, a int, b int);\n")))
	require.NoError(t, ld.WriteFile("2_b.sql", []byte("CREATE TABLE tmp (id int);\nDROP TABLE tmp;\nCREATE UNIQUE INDEX t_a ON t (a);\nALTER TABLE t DROP COLUMN b;\n")))
	sum, err := ld.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(ld, sum))
	req := Request{Options: scaffold.Options{Name: "app"}, Dir: dir, DirShown: "db", ConfigMapOnly: true,
		Lint: LintWith(context.Background(), lint.DefaultDevURL)}
	res, err := Generate(req)
	require.NoError(t, err)
	assert.Equal(t, "warning: db/2_b.sql:3: MF101: Adding a unique index \"t_a\" on table \"t\" might fail in case column \"a\" contains duplicate entries\n"+
		"warning: db/2_b.sql:4: DS103: Dropping non-virtual column \"b\"\n", warnings(res))

	req.Options.DenyDestructive = true
	_, err = Generate(req)
	var de *migdir.DestructiveError
	require.ErrorAs(t, err, &de)
	assert.Len(t, de.Diagnostics, 1)

	require.NoError(t, ld.WriteFile("3_c.sql", []byte("CREATE TABLE t (id int);\n")))
	sum, err = ld.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(ld, sum))
	_, err = Generate(req)
	require.EqualError(t, err, "lint on the dev database: db/3_c.sql:1: executing statement: CREATE TABLE t (id int);: table t already exists")
}
