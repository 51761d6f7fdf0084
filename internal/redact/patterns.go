package redact

import "strings"

// Patterns masks every credential shape it recognises, without knowing any secret value:
//
//   - URL userinfo by the URL grammar: in scheme://user:PASSWORD@host the password ends at the
//     last '@' of the authority, so an unescaped '@' in it (mysql://root:p@ss@db) is masked
//     whole; a password with an unescaped '/' (mysql://u:p/q@h) too, unless it reads as a port;
//     a lone user name only in http(s) URLs (https://TOKEN@github.com);
//   - MySQL DSNs, user:PASSWORD@tcp(host:3306)/db (also unix, udp, ... ), last '@' before net(;
//   - key=value and key: value pairs whose key names a secret: password, passwd, pwd, pass,
//     secret, token, apikey and any key ending in them after a prefix (PGPASSWORD, DB_PASSWORD,
//     sslpassword, client_secret, access_token, X-Auth-Token), in query strings, libpq conninfo
//     (password = 'a b'), env assignments, YAML, JSON ({"password":"x"}, also escaped inside a
//     string: {\"password\":\"x\"}) and HCL (password = "x");
//   - Authorization (and auth) values: the scheme word (Bearer, Basic, ...) stays, the rest of
//     the line goes; a standalone "Bearer <token>" of 8 characters or more.
//
// The same algorithm, step by step, is healthcheck/scripts/lib.lua's redact: keep them in step
// (TestLuaAgrees in healthcheck runs one table through both).
func Patterns(s string) string {
	s = maskURLs(s)
	s = maskDSNs(s)
	s = maskPairs(s)
	return maskBearer(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isKeyChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '-' }

// ends a URL or an unquoted value: white space and quotes.
func isURLEnd(c byte) bool {
	return isSpace(c) || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>'
}

func isValueEnd(c byte) bool { return isSpace(c) || c == '&' || c == ';' || c == '"' || c == '\'' }

// masking builds s with spans replaced by Marker, left to right.
type masking struct {
	s    string
	b    strings.Builder
	last int // end of the last masked span
}

func (m *masking) mask(from, to int) {
	m.b.WriteString(m.s[m.last:from])
	m.b.WriteString(Marker)
	m.last = to
}

func (m *masking) String() string {
	if m.last == 0 {
		return m.s
	}
	m.b.WriteString(m.s[m.last:])
	return m.b.String()
}

func indexFrom(s string, from int, sub string) int {
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

// maskURLs masks the password of every scheme://user:password@host.
func maskURLs(s string) string {
	m := &masking{s: s}
	pos := 0
	for {
		i := indexFrom(s, pos, "://")
		if i < 0 {
			break
		}
		start := i + 3
		pos = start
		// a scheme: a letter, then letters, digits, + - .
		j := i
		for j > 0 && (isAlpha(s[j-1]) || isDigit(s[j-1]) || s[j-1] == '+' || s[j-1] == '-' || s[j-1] == '.') {
			j--
		}
		for j < i && !isAlpha(s[j]) {
			j++
		}
		if j == i {
			continue
		}
		end := start
		for end < len(s) && !isURLEnd(s[end]) {
			end++
		}
		authEnd := start
		for authEnd < end && s[authEnd] != '/' && s[authEnd] != '?' && s[authEnd] != '#' {
			authEnd++
		}
		from, to := passwordSpan(s, start, authEnd, end, isHTTP(s[j:i]))
		if from >= 0 {
			m.mask(from, to)
		}
		pos = end
	}
	return m.String()
}

// isHTTP tells the schemes whose lone user name is a token (https://TOKEN@github.com, as Git
// hosts take them); elsewhere (postgres://app@db) a lone user name is no secret.
func isHTTP(scheme string) bool {
	s := strings.ToLower(scheme)
	return s == "http" || s == "https" || strings.HasSuffix(s, "+https") || strings.HasSuffix(s, "+http")
}

// passwordSpan finds the password of the URL whose authority is s[start:authEnd] and which ends
// at end; from is -1 when it has none.
func passwordSpan(s string, start, authEnd, end int, http bool) (from, to int) {
	at := strings.LastIndexByte(s[start:authEnd], '@')
	if at >= 0 {
		at += start
		colon := strings.IndexByte(s[start:at], ':')
		if colon < 0 {
			if http && at > start {
				return start, at
			}
			return -1, -1
		}
		return start + colon + 1, at
	}
	// No '@' in the authority: a password holding an unescaped '/', '?' or '#' (u:p/q@h),
	// unless what follows the ':' is a port (host:5432/db@x).
	colon := strings.IndexByte(s[start:authEnd], ':')
	if colon < 0 || authEnd == end {
		return -1, -1
	}
	colon += start
	port := colon + 1
	for port < authEnd && isDigit(s[port]) {
		port++
	}
	if port == authEnd && port > colon+1 {
		return -1, -1
	}
	at = strings.IndexByte(s[authEnd:end], '@')
	if at < 0 {
		return -1, -1
	}
	return colon + 1, authEnd + at
}

// dsnNets are the network names of MySQL DSNs (go-sql-driver/mysql): user:pass@net(addr)/db.
var dsnNets = []string{"tcp(", "tcp4(", "tcp6(", "udp(", "unix(", "memory(", "pipe("}

func maskDSNs(s string) string {
	m := &masking{s: s}
	pos := 0
	for {
		i := nextDSNAt(s, pos)
		if i < 0 {
			break
		}
		pos = i + 1
		// the password ends at the last '@' before net( of the DSN (user:p@ss@tcp(...))
		if n := nextDSNAt(s, i+1); n >= 0 && !hasURLEnd(s[i:n]) {
			continue
		}
		j := i
		for j > m.last && !isURLEnd(s[j-1]) {
			j--
		}
		colon := strings.IndexByte(s[j:i], ':')
		if colon < 0 {
			continue
		}
		m.mask(j+colon+1, i)
	}
	return m.String()
}

// nextDSNAt is the index of the next "@net(" at or after pos, or -1.
func nextDSNAt(s string, pos int) int {
	for {
		i := indexFrom(s, pos, "@")
		if i < 0 {
			return -1
		}
		for _, n := range dsnNets {
			if strings.HasPrefix(s[i+1:], n) {
				return i
			}
		}
		pos = i + 1
	}
}

func hasURLEnd(s string) bool {
	for i := 0; i < len(s); i++ {
		if isURLEnd(s[i]) {
			return true
		}
	}
	return false
}

// SecretKey reports whether a parameter or field name names a secret value (password, token,
// DB_PASSWORD, ...), as Patterns decides for key=value pairs.
func SecretKey(name string) bool { return keyKind(strings.TrimLeft(name, "-")) != 0 }

// keyKind tells whether a key names a secret: 1 a plain secret value, 2 an Authorization value
// (scheme word kept), 0 not a secret.
func keyKind(key string) int {
	k := strings.ToLower(key)
	switch k {
	case "authorization", "proxy-authorization", "auth":
		return 2
	case "pwd", "pass":
		return 1
	}
	for _, suffix := range []string{"password", "passwd", "secret", "token", "apikey", "api_key", "api-key"} {
		if strings.HasSuffix(k, suffix) {
			return 1
		}
	}
	for _, suffix := range []string{"_pwd", "-pwd", ".pwd", "_pass", "-pass", ".pass"} {
		if strings.HasSuffix(k, suffix) {
			return 1
		}
	}
	return 0
}

// maskPairs masks the value of every key=value / key: value pair whose key names a secret.
func maskPairs(s string) string {
	m := &masking{s: s}
	for j := 0; j < len(s); j++ {
		c := s[j]
		if (c != '=' && c != ':') || j < m.last {
			continue
		}
		kind, ok := pairKey(s, j)
		if !ok {
			continue
		}
		from, to := pairValue(s, j+1, kind)
		if from < 0 || to == from {
			continue
		}
		m.mask(from, to)
		j = to - 1
	}
	return m.String()
}

// pairKey reads the key before the separator at j: optional blanks, an optional closing quote
// (escaped or not), the key.
func pairKey(s string, j int) (kind int, ok bool) {
	if c := s[j]; c == ':' && j+2 < len(s) && s[j+1] == '/' && s[j+2] == '/' {
		return 0, false
	}
	k := j
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		k--
		for k > 0 && s[k-1] == '\\' {
			k--
		}
	}
	end := k
	for k > 0 && isKeyChar(s[k-1]) {
		k--
	}
	if k == end {
		return 0, false
	}
	// a flag name followed by ':' is a message about the flag; a key right after '=' is a
	// value (Kind=Secret: ... in Kubernetes errors)
	if s[j] == ':' && strings.HasPrefix(s[k:end], "--") || k > 0 && s[k-1] == '=' {
		return 0, false
	}
	kind = keyKind(strings.TrimLeft(s[k:end], "-"))
	return kind, kind != 0
}

// pairValue returns the span to mask of the value starting at v (after the separator).
func pairValue(s string, v, kind int) (from, to int) {
	for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
		v++
	}
	if v == len(s) {
		return -1, -1
	}
	// a quoted value: "...", '...', or \"...\" inside an escaped string
	q := v
	for q < len(s) && s[q] == '\\' {
		q++
	}
	if q < len(s) && (s[q] == '"' || s[q] == '\'') {
		closing := s[v : q+1]
		from = q + 1
		if kind == 2 {
			from = skipScheme(s, from)
		}
		i := from
		for i < len(s) && !strings.HasPrefix(s[i:], closing) && s[i] != '\n' {
			if q == v && s[q] == '"' && s[i] == '\\' && i+1 < len(s) {
				i++ // a JSON escape inside "..."
			}
			i++
		}
		return from, min(i, len(s))
	}
	from = v
	if kind == 2 {
		from = skipScheme(s, v)
		i := from
		for i < len(s) && s[i] != '\n' && s[i] != '\r' && s[i] != '"' && s[i] != '\'' {
			i++
		}
		return from, i
	}
	i := v
	for i < len(s) && !isValueEnd(s[i]) {
		i++
	}
	return from, i
}

// skipScheme keeps an Authorization scheme word (Bearer, Basic, ...) and the blanks after it.
func skipScheme(s string, i int) int {
	j := i
	for j < len(s) && isAlpha(s[j]) {
		j++
	}
	if j == i || j == len(s) || s[j] != ' ' {
		return i
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	return j
}

func isTokenChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// maskBearer masks "Bearer <token>" outside an Authorization pair (tokens of 8+ characters).
func maskBearer(s string) string {
	m := &masking{s: s}
	pos := 0
	for {
		i := indexFrom(s, pos, "earer ")
		if i < 0 {
			break
		}
		pos = i + 1
		if i == 0 || (s[i-1] != 'B' && s[i-1] != 'b') || (i > 1 && isKeyChar(s[i-2])) {
			continue
		}
		t := i + len("earer ")
		for t < len(s) && s[t] == ' ' {
			t++
		}
		e := t
		for e < len(s) && isTokenChar(s[e]) {
			e++
		}
		if e-t < 8 || strings.HasPrefix(s[t:], Marker) {
			continue
		}
		m.mask(t, e)
		pos = e
	}
	return m.String()
}
