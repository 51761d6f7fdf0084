package migdir

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestGitAttributes: the union line is added once, after what the file has; a line that
// already sets the ledger's merge attribute is the user's and stays.
func TestGitAttributes(t *testing.T) {
	for _, c := range []struct{ have, want string }{
		{"", GitAttributesLine + "\n"},
		{"*.sql text eol=lf", "*.sql text eol=lf\n" + GitAttributesLine + "\n"},
		{"*.sql text\n", "*.sql text\n" + GitAttributesLine + "\n"},
		{GitAttributesLine + "\n", ""},
		{"/" + LedgerFile + " merge=union\n", ""},
		{"**/" + LedgerFile + " -merge\n", ""},
		{LedgerFile + " binary\n", ""},
		{"other.ledger merge=union\n", "other.ledger merge=union\n" + GitAttributesLine + "\n"},
	} {
		got, changed := GitAttributes([]byte(c.have))
		require.Equal(t, c.want != "", changed, c.have)
		if changed {
			require.Equal(t, c.want, string(got))
		} else {
			require.Equal(t, c.have, string(got))
		}
	}
}

// TestLedgerMergeErrors: ledgers that a merge cannot have made right are errors naming the
// line and the fix.
func TestLedgerMergeErrors(t *testing.T) {
	files := fstest.MapFS{
		"V1__t.sql": {Data: []byte("CREATE TABLE t (a int);\n")},
		"R__v.sql":  {Data: []byte("SELECT 1;\n")},
	}
	d, err := ReadFS(files, Options{Format: FormatFlyway})
	require.NoError(t, err)
	base := string(d.Ledger) // zhg-<sum>_v.sql, zza2-<sum> marker
	lines := strings.Split(strings.TrimSpace(base), "\n")
	view, marker := lines[len(lines)-2], lines[len(lines)-1]
	for _, c := range []struct {
		name, ledger string
		want         []string
	}{
		{"conflict markers (merge style)", base + "<<<<<<< ours\nzhg-00000001_v.sql 00000001 R__v.sql\n=======\nzhg-00000002_v.sql 00000002 R__v.sql\n>>>>>>> theirs\n",
			[]string{LedgerFile + ":8: a Git merge conflict marker", "Delete the marker lines", GitAttributesLine}},
		{"conflict markers (diff3 style)", base + "||||||| base\n", []string{LedgerFile + ":8: a Git merge conflict marker"}},
		{"one name, two contents", base + strings.Replace(view, " R__v.sql", " R__w.sql", 1) + "\n",
			[]string{LedgerFile + ":8: " + strings.Fields(view)[0] + " here is", "on line 6 it is", "one version cannot stand for two contents"}},
		{"a marker numbered after lines that are gone", strings.Replace(base, view+"\n", "", 1),
			[]string{LedgerFile + ":6: " + strings.Fields(marker)[0] + " was the ledger's entry number 2, but only 0 entries come before it", "lines were removed"}},
		{"a revert numbered after lines that are gone", base + "zhg-00000001r" + "b12_v.sql 00000001 R__v.sql\n",
			[]string{LedgerFile + ":8: zhg-00000001rb12_v.sql was the ledger's entry number 12, but only 2 entries"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{LedgerFile: {Data: []byte(c.ledger)}}
			for k, v := range files {
				fsys[k] = v
			}
			_, err := ReadFS(fsys, Options{Format: FormatFlyway})
			require.Error(t, err)
			for _, w := range c.want {
				require.ErrorContains(t, err, w)
			}
		})
	}

	// Identical lines twice (both branches recorded the same change) read as one.
	fsys := fstest.MapFS{LedgerFile: {Data: []byte(base + view + "\n" + marker + "\n")}}
	for k, v := range files {
		fsys[k] = v
	}
	again, err := ReadFS(fsys, Options{Format: FormatFlyway})
	require.NoError(t, err)
	require.NoError(t, again.CheckLedger())
	require.Equal(t, d.Versions(), again.Versions())
}
