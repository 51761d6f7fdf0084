//go:build !cgo

package lint

// hasSQLite: SQLite (github.com/mattn/go-sqlite3, as the atlas CLI) needs cgo.
const hasSQLite = false
