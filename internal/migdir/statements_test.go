package migdir

import (
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToolStatements: which statements each tool would execute, and whether in a transaction,
// from each tool's documented rules; the converted file must give atlas exactly those.
func TestToolStatements(t *testing.T) {
	tests := []struct {
		name, format, file, src string
		want                    []string
		noTx                    bool
		why                     string // in the converted file's header
	}{
		{name: "goose trailing comment ends the statement", format: FormatGoose, file: "1_a.sql",
			src:  "-- +goose Up\nCREATE TABLE a (id int); -- first table\nCREATE TABLE b (id int);\n",
			want: []string{"CREATE TABLE a (id int);", "CREATE TABLE b (id int);"}},
		{name: "goose ';' inside a trailing comment does not end it", format: FormatGoose, file: "1_a.sql",
			src:  "-- +goose Up\nSELECT 1 -- not yet;\n, 2;\n",
			want: []string{"SELECT 1 -- not yet;\n, 2;"}},
		{name: "goose lower-case annotations, NO TRANSACTION after Down", format: FormatGoose, file: "1_a.sql",
			src:  "-- +goose up\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- +goose down\nDROP INDEX i;\n-- +goose NO TRANSACTION\n",
			want: []string{"CREATE INDEX CONCURRENTLY i ON t (c);"}, noTx: true, why: "goose: `-- +goose NO TRANSACTION`"},
		{name: "goose block with semicolons", format: FormatGoose, file: "1_a.sql",
			src:  "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN RETURN 1; END;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n",
			want: []string{"CREATE FUNCTION f() RETURNS int AS $$\nBEGIN RETURN 1; END;\n$$ LANGUAGE plpgsql;"}},
		{name: "goose CRLF", format: FormatGoose, file: "1_a.sql",
			src:  "-- +goose Up\r\nCREATE TABLE a (\r\n  id int\r\n);\r\n",
			want: []string{"CREATE TABLE a (\n  id int\n);"}},
		{name: "golang-migrate without a transaction", format: FormatGolangMigrate, file: "1_a.up.sql",
			src:  "CREATE INDEX CONCURRENTLY i ON t (c);\n",
			want: []string{"CREATE INDEX CONCURRENTLY i ON t (c);"}, noTx: true, why: "golang-migrate runs a file without a transaction"},
		{name: "golang-migrate BEGIN/COMMIT becomes the transaction", format: FormatGolangMigrate, file: "1_a.up.sql",
			src:  "BEGIN;\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCOMMIT;\n",
			want: []string{"CREATE TABLE a (id int);", "CREATE TABLE b (id int);"}, why: "BEGIN ... COMMIT became the transaction"},
		{name: "flyway CONCURRENTLY", format: FormatFlyway, file: "V1__a.sql",
			src:  "CREATE UNIQUE INDEX CONCURRENTLY i ON t (c);\n",
			want: []string{"CREATE UNIQUE INDEX CONCURRENTLY i ON t (c);"}, noTx: true, why: "Flyway runs this file outside a transaction: CREATE UNIQUE INDEX CONCURRENTLY cannot run inside one"},
		{name: "flyway VACUUM", format: FormatFlyway, file: "V1__a.sql", src: "vacuum analyze t;\n",
			want: []string{"vacuum analyze t;"}, noTx: true, why: "VACUUM cannot run inside one"},
		{name: "flyway ALTER SYSTEM, REINDEX CONCURRENTLY, CREATE DATABASE", format: FormatFlyway, file: "V1__a.sql",
			src:  "ALTER SYSTEM SET work_mem = '64MB';\n",
			want: []string{"ALTER SYSTEM SET work_mem = '64MB';"}, noTx: true},
		{name: "flyway REINDEX CONCURRENTLY", format: FormatFlyway, file: "V1__a.sql", src: "REINDEX INDEX CONCURRENTLY i;\n",
			want: []string{"REINDEX INDEX CONCURRENTLY i;"}, noTx: true},
		{name: "flyway CREATE DATABASE", format: FormatFlyway, file: "V1__a.sql", src: "CREATE DATABASE reports;\n",
			want: []string{"CREATE DATABASE reports;"}, noTx: true},
		{name: "flyway plain DDL stays transactional", format: FormatFlyway, file: "V1__a.sql",
			src:  "CREATE INDEX i ON t (c);\n-- CREATE INDEX CONCURRENTLY only in a comment\n",
			want: []string{"CREATE INDEX i ON t (c);"}},
		{name: "liquibase runInTransaction:false and rollback lines", format: FormatLiquibase, file: "1_a.sql",
			src:  "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (c int);\n--rollback DROP TABLE t;\n--changeset a:2 runInTransaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n",
			want: []string{"CREATE TABLE t (c int);", "CREATE INDEX CONCURRENTLY i ON t (c);"}, noTx: true, why: "runInTransaction:false on changeset a:2"},
		{name: "liquibase splitStatements:false", format: FormatLiquibase, file: "1_a.sql",
			src:  "--liquibase formatted sql\n--changeset a:1 splitStatements:false\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\n",
			want: []string{"CREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;"}},
		{name: "dbmate transaction:false", format: FormatDBMate, file: "1_a.sql",
			src:  "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- migrate:down\nDROP INDEX i;\n",
			want: []string{"CREATE INDEX CONCURRENTLY i ON t (c);"}, noTx: true, why: "dbmate: `transaction:false`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ReadFS(fstest.MapFS{tt.file: {Data: []byte(tt.src)}}, Options{Format: tt.format})
			require.NoError(t, err)
			f := migrate.NewLocalFile(d.Files[0].Name, d.Files[0].Data)
			stmts, err := f.StmtDecls()
			require.NoError(t, err)
			var got []string
			for _, s := range stmts {
				got = append(got, strings.TrimSpace(s.Text))
			}
			assert.Equal(t, tt.want, got, "converted file:\n%s", d.Files[0].Data)
			if tt.noTx {
				assert.Equal(t, []string{"none"}, f.Directive("txmode"), "atlas reads the txmode directive")
			} else {
				assert.Empty(t, f.Directive("txmode"))
			}
			assert.Contains(t, string(d.Files[0].Data), tt.why)
		})
	}
}

func TestToolParseErrors(t *testing.T) {
	tests := []struct{ name, format, file, src, want string }{
		{"goose unterminated", FormatGoose, "1_a.sql", "-- +goose Up\nSELECT 1\n-- +goose Down\n", "1_a.sql:2: statement not terminated by ';' before `-- +goose Down`"},
		{"goose missing StatementEnd", FormatGoose, "1_a.sql", "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", "1_a.sql:2: `-- +goose StatementBegin` without `-- +goose StatementEnd`"},
		{"goose envsub", FormatGoose, "1_a.sql", "-- +goose ENVSUB ON\n-- +goose Up\nSELECT '${X}';\n", "1_a.sql:1: `-- +goose ENVSUB ON`"},
		{"goose two Up", FormatGoose, "1_a.sql", "-- +goose Up\n-- +goose Up\n", "1_a.sql:2: a second `-- +goose Up`"},
		{"liquibase runAlways", FormatLiquibase, "1_a.sql", "--liquibase formatted sql\n--changeset a:1 runAlways:true\nSELECT 1;\n", "1_a.sql:2: changeset a:1: runAlways:true runs it on every update, and atlas has no equivalent"},
		{"liquibase runOnChange before a run-once changeset", FormatLiquibase, "1_a.sql", "--liquibase formatted sql\n--changeset a:1 runOnChange:true\nCREATE VIEW v AS SELECT 1;\n--changeset a:2\nCREATE TABLE t (id int);\n", "1_a.sql:4: changeset a:2 runs once but follows the runOnChange changeset a:1 (line 2) in the same file"},
		{"liquibase no header", FormatLiquibase, "1_a.sql", "--changeset a:1\nSELECT 1;\n", "1_a.sql:1: the first line of a Liquibase formatted SQL file"},
		{"liquibase endDelimiter", FormatLiquibase, "1_a.sql", "--liquibase formatted sql\n--changeset a:1 endDelimiter:/\nSELECT 1\n/\n", "endDelimiter:/ is not converted"},
		{"wrong format names the right one", FormatGoose, "1_a.up.sql", "SELECT 1;\n", "1_a.up.sql: no `-- +goose Up` section: not a goose SQL migration (the directory looks like golang-migrate)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFS(fstest.MapFS{tt.file: {Data: []byte(tt.src)}}, Options{Format: tt.format})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestWarnings: BOMs removed and references to the old tool's tracking table, with file:line.
func TestWarnings(t *testing.T) {
	d, err := ReadFS(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("\ufeffCREATE TABLE a (id int);\n")},
		"2_b.up.sql": {Data: []byte("-- schema_migrations in a comment is fine\nDELETE FROM schema_migrations WHERE version = 3;\n")},
	}, Options{Format: FormatGolangMigrate})
	require.NoError(t, err)
	var got []string
	for _, w := range d.Warnings {
		got = append(got, w.String())
	}
	assert.Equal(t, []string{
		"1_a.up.sql:1: starts with a UTF-8 byte order mark: removed in the converted file",
		"2_b.up.sql:2: references schema_migrations, golang-migrate's and dbmate's tracking table: after the conversion atlas records applied versions in atlas_schema_revisions and schema_migrations is no longer written",
	}, got)
	assert.False(t, strings.HasPrefix(string(d.Files[0].Data), "\ufeff"))
	assert.Contains(t, string(d.Files[0].Data), "\nCREATE TABLE a (id int);")
}

// TestAtlasFormatSurprises: down files, templates and CRLF checkouts explain themselves.
func TestAtlasFormatSurprises(t *testing.T) {
	lf := map[string][]byte{"1_a.sql": []byte("CREATE TABLE a (\n  id int\n);\n"), "2_b.sql": []byte("SELECT 1;\n")}
	withCRLF := withSum(t, lf)
	withCRLF["1_a.sql"] = []byte(strings.ReplaceAll(string(lf["1_a.sql"]), "\n", "\r\n"))
	withBOM := withSum(t, lf)
	withBOM["2_b.sql"] = append([]byte("\ufeff"), lf["2_b.sql"]...)
	down := withSum(t, lf)
	down["1_a.down.sql"] = []byte("DROP TABLE a;\n")
	tmpl := withSum(t, map[string][]byte{"1_a.sql": []byte("CREATE TABLE {{ .Schema }}.a (id int);\n")})
	for name, c := range map[string]struct {
		files map[string][]byte
		want  string
	}{
		"crlf":     {withCRLF, "1_a.sql: only line endings changed (CRLF instead of LF, or a byte order mark): your checkout converts them"},
		"bom":      {withBOM, "2_b.sql: only line endings changed"},
		"down":     {down, "1_a.down.sql: a down migration in an atlas directory: atlas would run it as a migration, so move the down files out of the directory (the directory looks like golang-migrate)"},
		"template": {tmpl, "1_a.sql: line 1: uses a template ({{ ... }}): templates are not supported by the operator's ConfigMap directories"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(writeDir(t, c.files), Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestBaselineVersion(t *testing.T) {
	d, err := ReadFS(fstest.MapFS{"V1__a.sql": {Data: []byte("SELECT 1;")}, "V1.1__b.sql": {Data: []byte("SELECT 2;")}}, Options{Format: FormatFlyway})
	require.NoError(t, err)
	v, err := d.BaselineVersion("1.1")
	require.NoError(t, err)
	assert.Equal(t, "a1a1", v)
	v, err = d.BaselineVersion("1.0")
	require.NoError(t, err)
	assert.Equal(t, "a1", v, "Flyway: 1.0 is 1")
	_, err = d.BaselineVersion("2")
	require.ErrorContains(t, err, "baseline version 2 (atlas version a2) is not a migration of the directory (the newest is a1a1): give the version of the last migration flyway applied, `SELECT version FROM flyway_schema_history")
}

// TestDetectThroughBOM: a byte order mark does not hide the header that names the format.
func TestDetectThroughBOM(t *testing.T) {
	for format, src := range map[string]string{
		FormatGoose:     "\ufeff-- +goose Up\r\nSELECT 1;\r\n",
		FormatDBMate:    "\ufeff-- migrate:up\r\nSELECT 1;\r\n",
		FormatLiquibase: "\ufeff--liquibase formatted sql\r\n--changeset a:1\r\nSELECT 1;\r\n",
	} {
		fsys := fstest.MapFS{"1_a.sql": {Data: []byte(src)}}
		got, err := Detect(fsys)
		require.NoError(t, err)
		assert.Equal(t, format, got)
		d, err := ReadFS(fsys, Options{})
		require.NoError(t, err, format)
		assert.NotContains(t, string(d.Files[0].Data), "\r", "converted files have LF line endings")
		require.Len(t, d.Warnings, 2, format)
		assert.Contains(t, d.Warnings[1].String(), "1_a.sql:1: CRLF line endings: converted to LF")
	}
}

func TestFlywayMixedAndConf(t *testing.T) {
	d, err := ReadFS(fstest.MapFS{
		"V1__mixed.sql":     {Data: []byte("CREATE TABLE t (c int);\nCREATE INDEX CONCURRENTLY i ON t (c);\n")},
		"V2__conf.sql":      {Data: []byte("SELECT 1;\n")},
		"V2__conf.sql.conf": {Data: []byte("executeInTransaction=false\n")},
		"README.md":         {Data: []byte("x")},
		"V3__holder.sql":    {Data: []byte("-- x\nGRANT SELECT ON t TO ${reader};\n")},
	}, Options{})
	require.NoError(t, err)
	require.Len(t, d.Warnings, 2)
	assert.Equal(t, "V3__holder.sql:2: Flyway placeholder ${reader}: Flyway replaces it when it runs the script; the converted file keeps it as written: put the value in", d.Warnings[1].String())
	assert.Contains(t, d.Warnings[0].String(), "V1__mixed.sql: mixes statements that cannot run in a transaction with others: Flyway refuses such a file unless mixed=true")
	assert.Contains(t, string(d.Files[1].Data), "-- atlas:txmode none\n-- Flyway: executeInTransaction=false in V2__conf.sql.conf\n")
	assert.Equal(t, []string{"README.md"}, d.Ignored)
}
