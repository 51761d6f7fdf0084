package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain message", "plain message"},
		{"mysql://root:pass@localhost:3306/db", "mysql://root:xxxxx@localhost:3306/db"},
		{`Error: connecting to "postgres://app:s3cr%40t@db:5432/app?sslmode=disable": refused`,
			`Error: connecting to "postgres://app:xxxxx@db:5432/app?sslmode=disable": refused`},
		{"two urls: mysql://a:b@h/x and maria://c:d@h/y", "two urls: mysql://a:xxxxx@h/x and maria://c:xxxxx@h/y"},
		{"a password with a slash: mysql://u:p/q@h/d", "a password with a slash: mysql://u:xxxxx@h/d"},
		{"user without password: postgres://app@db/x", "user without password: postgres://app@db/x"},
		{"sqlserver://sa@db?database=x&password=hunter2&x=1", "sqlserver://sa@db?database=x&password=xxxxx&x=1"},
		{"sqlserver://h?PASSWORD=s", "sqlserver://h?PASSWORD=xxxxx"},
		{"dsn host=db user=app password=hunter2 dbname=x", "dsn host=db user=app password=xxxxx dbname=x"},
		{"https://example.com/path?token=abc", "https://example.com/path?token=xxxxx"},
		{"https://acme.atlasgo.cloud/plans/1", "https://acme.atlasgo.cloud/plans/1"},
		{"multi\nline postgres://u:p@h/d\nend", "multi\nline postgres://u:xxxxx@h/d\nend"},
		{"empty password mysql://root:@h/d", "empty password mysql://root:xxxxx@h/d"},
	} {
		assert.Equal(t, tc.want, String(tc.in), tc.in)
	}
}

func FuzzString(f *testing.F) {
	f.Add("postgres://u:p@h/d")
	f.Add("password=x")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		// Redacting twice changes nothing more: the marker is never a secret still to hide.
		assert.Equal(t, out, String(out))
	})
}
