// Package redact hides credentials in text before kubectl-atlas prints it. The Atlas Operator
// copies atlas CLI errors, database URLs and their passwords included, into condition messages,
// so every verb that shows a message, an API error or a URL goes through String.
package redact

import "regexp"

// Marker replaces every secret, as net/url's Redacted does.
const Marker = "xxxxx"

var (
	// scheme://user:PASSWORD@host. The same pattern as the health scripts' Lua redact (which runs
	// only with useOpenLibs), so Argo CD and kubectl-atlas show the same text for URLs.
	urlPassword = regexp.MustCompile(`(://[^/@: \t\r\n]*:)[^@ \t\r\n]*@`)
	// password=..., token=... in query strings and key=value DSNs: a superset of the scripts'.
	paramSecret = regexp.MustCompile(`(?i)\b(password|passwd|pwd|pass|token|secret|access_token|sslpassword)=([^&\s"';]+)`)
)

// String returns s with passwords in URLs and secret parameters replaced by Marker.
func String(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}"+Marker+"@")
	return paramSecret.ReplaceAllString(s, "${1}="+Marker)
}
