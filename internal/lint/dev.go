package lint

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"ariga.io/atlas/sql/sqlclient"

	// The drivers atlas inspects with, and the analyzers each registers (sqlcheck.Register).
	_ "ariga.io/atlas/sql/mysql"
	_ "ariga.io/atlas/sql/mysql/mysqlcheck"
	_ "ariga.io/atlas/sql/postgres"
	_ "ariga.io/atlas/sql/postgres/postgrescheck"
	_ "ariga.io/atlas/sql/sqlite"
	_ "ariga.io/atlas/sql/sqlite/sqlitecheck"

	// database/sql drivers, the ones the atlas CLI links (SQLite through cgo).
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
)

// DefaultDevURL is the dev database when none is given: an embedded in-memory SQLite, gone
// when the process ends (atlas's documented dev URL for SQLite).
const DefaultDevURL = "sqlite://lint?mode=memory&_fk=1"

// OpenDev connects to the dev database at rawURL (postgres://, mysql://, maria://,
// sqlite://...; DefaultDevURL when empty), as atlas's --dev-url.
func OpenDev(ctx context.Context, rawURL string) (*sqlclient.Client, error) {
	if rawURL == "" {
		rawURL = DefaultDevURL
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("dev database URL %q: want a URL such as postgres://user:pass@host:5432/dev?sslmode=disable, mysql://user:pass@host:3306/dev or %s", Redacted(rawURL), DefaultDevURL)
	}
	if !hasSQLite && strings.HasPrefix(u.Scheme, "sqlite") {
		return nil, fmt.Errorf("this kubectl-atlas was built without cgo and has no embedded SQLite: pass --dev-url with a PostgreSQL or MySQL dev database, or build it with CGO_ENABLED=1 (go install)")
	}
	c, err := sqlclient.Open(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("dev database %s: %w", Redacted(rawURL), err)
	}
	if c.Name == "sqlite" && u.Query().Get("mode") == "memory" {
		// Every connection to an in-memory SQLite is a database of its own: keep one.
		c.DB.SetMaxOpenConns(1)
	}
	return c, nil
}

// Redacted is rawURL without its password, for messages.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		if i := strings.Index(rawURL, "@"); i >= 0 {
			return "***" + rawURL[i:]
		}
		return rawURL
	}
	return u.Redacted()
}
