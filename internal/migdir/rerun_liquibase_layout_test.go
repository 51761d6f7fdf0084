package migdir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// rerunLiquibaseLayouts: Liquibase includeAll folders as projects lay them out, with the rerun
// ledger and the .gitattributes that init and configmap write beside the SQL files. The ledger
// is never a migration: the format is still detected as Liquibase, neither file is a converted
// file's source nor reported as left out, the files the ledger adds (placeholders, marker) hold
// no statement, no converted file holds a ledger line, and the directory applies on
// PostgreSQL with the edited runOnChange changeset run again. A ledger inside a subfolder
// (which this conversion leaves out, listed) is never read. Liquibase itself skips both files:
// includeAll includes every file of the folder with OnUnknownFileFormat.WARN, and a file no
// changelog parser takes (.ledger, .gitattributes) is logged as "not a recognized file type"
// and skipped (liquibase-standard DatabaseChangeLog.includeAll and include).
func rerunLiquibaseLayouts(t *testing.T, srv *databases.Server) {
	view := func(cols string) string {
		return "--liquibase formatted sql\n--changeset alice:1\nCREATE TABLE users (id int PRIMARY KEY, name text, email text);\n--changeset alice:2 runOnChange:true\nCREATE OR REPLACE VIEW user_names AS SELECT " + cols + " FROM users;\n--rollback DROP VIEW user_names;\n"
	}
	for _, l := range []struct {
		name    string
		files   map[string]string
		ignored []string
	}{
		{"a folder of formatted SQL only", map[string]string{}, nil},
		{"other files beside the SQL files (left out, listed)", map[string]string{
			"README.md": "# migrations\n",
			".gitkeep":  "",
		}, []string{".gitkeep", "README.md"}},
		{"a subfolder with its own ledger", map[string]string{
			"archive/000_old.sql":                 "--liquibase formatted sql\n--changeset old:1\nSELECT 1;\n",
			"archive/" + migdir.LedgerFile:        "not a ledger line\n",
			"archive/" + migdir.GitAttributesFile: migdir.GitAttributesLine + "\n",
		}, []string{"archive/"}},
	} {
		t.Run(l.name, func(t *testing.T) {
			tg := newTarget(t, srv, "lblayout_"+strings.ReplaceAll(strings.Fields(l.name)[1], "-", ""))
			r := newRepo(t, "") // detected
			files := map[string]string{
				"001_users.sql": view("id, name"),
				"002_more.sql":  "--liquibase formatted sql\n--changeset bob:3\nCREATE TABLE log (what text);\n",
			}
			for k, v := range l.files {
				files[k] = v
			}
			step := func(d *migdir.Dir) []string {
				t.Helper()
				require.Equal(t, migdir.FormatLiquibase, d.Format)
				attrs, changed := migdir.GitAttributes(nil)
				require.True(t, changed)
				require.NoError(t, os.WriteFile(filepath.Join(r.dir, migdir.GitAttributesFile), attrs, 0o644)) // as configmap writes it
				again := read(t, r.dir, "")
				require.Equal(t, d.Versions(), again.Versions(), ".gitattributes changes nothing")
				require.ElementsMatch(t, l.ignored, again.Ignored, "neither the ledger nor .gitattributes is reported as left out")
				ledger, err := os.ReadFile(filepath.Join(r.dir, migdir.LedgerFile))
				require.NoError(t, err)
				for _, f := range again.Files {
					require.NotEqual(t, migdir.GitAttributesFile, f.Source)
					require.False(t, strings.HasPrefix(f.Source, "archive/"), f.Source)
					if f.Name == migdir.SumFile {
						continue
					}
					for _, line := range ledgerLines(string(ledger)) {
						require.NotContains(t, string(f.Data), line, "%s holds a ledger line", f.Name)
					}
					if f.Source == migdir.LedgerFile {
						stmts, err := migrate.NewLocalFile(f.Name, f.Data).Stmts()
						require.NoError(t, err)
						require.Empty(t, stmts, "%s: the ledger's files hold no statement", f.Name)
					}
				}
				return tg.apply(t, writeConverted(t, again), nonLinear)
			}
			d1 := r.commit(t, files)
			require.Len(t, step(d1), len(d1.Versions()))
			files["001_users.sql"] = view("id, name, email")
			d2 := r.commit(t, files)
			ran := step(d2)
			require.Len(t, ran, 2, "the edited changeset's new version, the new marker: %v", ran)
			require.True(t, strings.HasPrefix(ran[0], "001a1-"), ran[0])
			require.Equal(t, d2.LatestVersion(), ran[1])
			require.Equal(t, []string{"email"}, tg.query(t, "SELECT column_name FROM information_schema.columns WHERE table_name = 'user_names' AND column_name = 'email'"))
			tg.settled(t, d2)
			// A new database records the ledger's files and runs nothing of them.
			fresh := newTarget(t, srv, "lbfresh_"+strings.ReplaceAll(strings.Fields(l.name)[1], "-", ""))
			require.Equal(t, d2.Versions(), fresh.apply(t, writeConverted(t, d2), nonLinear))
			require.Len(t, kept(d2), 3, "the first version's placeholder, the first marker's, the marker")
			for _, rev := range fresh.revs.revs {
				for _, k := range kept(d2) {
					if rev.Version == k {
						require.Zero(t, rev.Total, "%s ran statements", k)
					}
				}
			}
		})
	}
}
