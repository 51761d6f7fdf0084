package migdir

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		stmt string
		want []string // code: message
	}{
		{"DROP SCHEMA shop CASCADE;", []string{"DS101: drops schema shop and every table in it"}},
		{"drop database if exists `shop`;", []string{"DS101: drops schema shop and every table in it"}},
		{"DROP TABLE users;", []string{"DS102: drops table users and its data"}},
		{"DROP TABLE IF EXISTS a, \"b\" CASCADE;", []string{"DS102: drops table a and its data", "DS102: drops table b and its data"}},
		{"DROP TEMPORARY TABLE t;", []string{"DS102: drops table t and its data"}},
		{"ALTER TABLE users DROP COLUMN email;", []string{"DS103: drops column email of table users and its data"}},
		{"ALTER TABLE `users` DROP `email`, DROP COLUMN IF EXISTS age;", []string{"DS103: drops column email of table users and its data", "DS103: drops column age of table users and its data"}},
		{"ALTER TABLE ONLY public.users DROP COLUMN x;", []string{"DS103: drops column x of table public.users and its data"}},
		{"ALTER TABLE users DROP CONSTRAINT users_pk;", nil},
		{"ALTER TABLE users DROP INDEX users_email, DROP FOREIGN KEY fk, DROP PRIMARY KEY;", nil},
		{"ALTER TABLE users ALTER COLUMN name DROP DEFAULT, ALTER COLUMN age DROP NOT NULL;", nil},
		{"ALTER TABLE users ADD COLUMN note text DEFAULT 'DROP COLUMN x';", nil},
		{"DROP INDEX users_email;", nil},
		{"DROP VIEW v;", nil},
		{"CREATE TABLE drop_table (id int);", nil},
		{"INSERT INTO log VALUES ('DROP TABLE users');", nil},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			var got []string
			for _, d := range classify(tt.stmt) {
				got = append(got, d.Code+": "+d.Message)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDestructiveFileLine(t *testing.T) {
	d, err := Read("testdata/atlas", Options{})
	require.NoError(t, err)
	var got []string
	for _, diag := range d.Destructive() {
		got = append(got, diag.String())
	}
	assert.Equal(t, []string{
		"20240103000000_drop_legacy.sql:3: DS103: drops column email of table users and its data",
		"20240103000000_drop_legacy.sql:4: DS102: drops table legacy and its data",
	}, got)

	// After a conversion, diagnostics point at the user's own file and line.
	gm, err := Read("testdata/golang-migrate", Options{})
	require.NoError(t, err)
	require.Len(t, gm.Destructive(), 1)
	assert.Equal(t, "10_tags.up.sql:2: DS103: drops column user_id of table posts and its data", gm.Destructive()[0].String())
	lq, err := Read("testdata/liquibase", Options{})
	require.NoError(t, err)
	require.Len(t, lq.Destructive(), 1)
	assert.Equal(t, "002_drop.sql:4: DS102: drops table posts and its data", lq.Destructive()[0].String())
}

func TestDestructiveNolint(t *testing.T) {
	files := map[string][]byte{
		"1_a.sql": []byte("CREATE TABLE a (id int);\n\n-- atlas:nolint DS102\nDROP TABLE a;\n\n-- atlas:nolint DS103\nDROP TABLE b;\n\n-- atlas:nolint\nDROP SCHEMA s;\n\n-- atlas:nolint destructive\nALTER TABLE c DROP COLUMN d;\n"),
		"2_b.sql": []byte("-- atlas:nolint\n\nDROP TABLE x;\n"),
	}
	d, err := Read(writeDir(t, withSum(t, files)), Options{})
	require.NoError(t, err)
	var got []string
	for _, diag := range d.Destructive() {
		got = append(got, diag.String())
	}
	assert.Equal(t, []string{"1_a.sql:7: DS102: drops table b and its data"}, got)
}
