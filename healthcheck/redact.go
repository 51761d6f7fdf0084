package healthcheck

import "regexp"

// The operator copies atlas CLI errors into its conditions, and those can quote the database URL.
// Argo CD's default VM has no string library, so the scripts cannot redact by themselves (they do
// when useOpenLibs is on); every message kubectl-atlas prints goes through Redact. The patterns are
// the scripts' Lua patterns, so both give the same text.
var (
	urlPassword   = regexp.MustCompile(`(://[^/@: \t\r\n]*:)[^@ \t\r\n]*@`)
	queryPassword = regexp.MustCompile(`([?&;][Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]=)[^& \t\r\n]*`)
)

// Redacted replaces a password.
const Redacted = "xxxxx"

// Redact hides passwords in URLs (scheme://user:PASSWORD@host) and password query parameters.
func Redact(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}"+Redacted+"@")
	return queryPassword.ReplaceAllString(s, "${1}"+Redacted)
}
