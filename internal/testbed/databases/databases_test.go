package databases

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServers starts each engine for real, creates a database, a table in it, and reads the
// table list back; the password must be required (a wrong one is refused).
func TestServers(t *testing.T) {
	for _, start := range []func(context.Context) (*Server, error){StartPostgres, StartMariaDB} {
		ctx := context.Background()
		s, err := start(ctx)
		require.NoError(t, err)
		t.Run(string(s.Kind), func(t *testing.T) {
			defer func() { require.NoError(t, s.Stop()) }()
			u, err := s.CreateDatabase(ctx, "app")
			require.NoError(t, err)
			require.Contains(t, u, s.Password)
			require.NoError(t, s.Exec(ctx, "app", "CREATE TABLE users (id int PRIMARY KEY)"))
			tables, err := s.Tables(ctx, "app")
			require.NoError(t, err)
			require.Equal(t, []string{"users"}, tables)

			wrong := *s
			wrong.Password = "not-the-password"
			_, err = wrong.Query(ctx, "app", "SELECT 1")
			require.Error(t, err, "a wrong password must be refused")
		})
	}
}

// TestSQLite creates a table in a new file and reads it back with the sqlite3 client.
func TestSQLite(t *testing.T) {
	ctx := context.Background()
	db := SQLite{Path: t.TempDir() + "/app.db"}
	require.Equal(t, "sqlite://"+db.Path, db.URL())
	_, err := db.Query(ctx, "CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (7)")
	require.NoError(t, err)
	tables, err := db.Tables(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"users"}, tables)
	out, err := db.Query(ctx, "SELECT id FROM users")
	require.NoError(t, err)
	require.Equal(t, "7", out)
}
