package cluster

import "regexp"

// Redacted replaces every secret that Redact removes, the same marker net/url uses.
const Redacted = "xxxxx"

var (
	// scheme://user:password@host: the password part of any URL's userinfo.
	urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*):[^\s@/]*@`)
	// password=..., token=... in query strings and key=value DSNs.
	paramSecret = regexp.MustCompile(`(?i)\b(password|passwd|pwd|pass|token|secret|access_token|sslpassword)=([^&\s"';]+)`)
)

// Redact hides credentials in text that came from the cluster or the user before it is printed:
// the Atlas Operator copies database URLs, with their passwords, into condition messages.
func Redact(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}:"+Redacted+"@")
	return paramSecret.ReplaceAllString(s, "${1}="+Redacted)
}
