// Package redact hides credentials in text before kubectl-atlas prints it. The Atlas Operator
// copies atlas CLI errors, database URLs and their passwords included, into condition messages;
// API servers, kustomize and database drivers echo URLs and values in their errors.
//
// Two mechanisms:
//   - Patterns: credential shapes recognised without knowing the value (URL passwords, DSNs,
//     password=, token:, Authorization, ...). The package-level String applies them and nothing
//     else: libraries that format messages use it, they know no secret;
//   - a Redactor: the values one command knows are secret (passwords of URLs given in flags,
//     Secret data it reads), registered with Add, AddURL, AddSecretData or AddSpec and masked
//     wherever they appear, then the patterns.
//
// The plugin wraps its stdout and stderr once per command tree (plugin.NewCmdAtlas) in Writers
// sharing one Redactor, so every byte it prints passes through both mechanisms; For gives code
// that holds only the streams that Redactor, to register a secret or to redact what leaves by
// another way. Only manifests a verb exists to emit bypass the Writer (Payload); messages inside
// them, and anything written to a file, are redacted with the Redactor by their writer.
package redact

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Marker replaces every secret, as net/url's Redacted does.
const Marker = "xxxxx"

// MinSecretLen is the shortest value Add registers: masking every "app" or "on" in the output
// would garble it while hiding nothing a guess would not find.
const MinSecretLen = 6

// String returns s with every recognised credential shape masked (Patterns). It knows no
// secret value: those are masked by a Redactor, which the plugin's output streams apply.
func String(s string) string { return Patterns(s) }

// Redactor holds the secret values one command knows and masks them. The zero value is ready
// to use (New returns one) and it is safe for concurrent use; a nil *Redactor knows nothing
// (String still applies the patterns).
type Redactor struct {
	mu       sync.RWMutex
	values   map[string]struct{}
	replacer *strings.Replacer
}

// New returns a Redactor that knows no secret yet.
func New() *Redactor { return &Redactor{} }

// String returns s with every known secret and every recognised credential shape masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return Patterns(s)
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		s = rep.Replace(s)
	}
	return Patterns(s)
}

// Add registers secret values: from now on String and every Writer of r mask them wherever
// they appear, also percent-encoded (URLs) and JSON/Go-quoted (-o json, %q in errors). Values
// shorter than MinSecretLen are ignored. A multi-line value also registers each of its lines of
// 8 characters or more, because Writer redacts line by line.
func (r *Redactor) Add(values ...string) {
	var all []string
	for _, v := range values {
		all = append(all, v)
		if strings.ContainsAny(v, "\r\n") {
			for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= 8 {
					all = append(all, line)
				}
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range all {
		if len(v) < MinSecretLen {
			continue
		}
		for _, form := range forms(v) {
			if _, ok := r.values[form]; !ok && len(form) >= MinSecretLen {
				if r.values == nil {
					r.values = map[string]struct{}{}
				}
				r.values[form] = struct{}{}
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	all = make([]string, 0, len(r.values))
	for v := range r.values {
		all = append(all, v)
	}
	// the longest first: strings.Replacer tries its old strings in argument order
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, Marker)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// forms are the spellings under which a value may be printed.
func forms(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v), (&url.URL{User: url.UserPassword("u", v)}).User.String()[2:]}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	q := strconv.Quote(v) // %q in error messages
	return append(out, q[1:len(q)-1])
}

// AddURL registers the credentials of a URL: the password, or a user name that stands alone
// (https://TOKEN@github.com is how Git hosts take tokens). Anything that does not parse as a URL
// with userinfo is left to Patterns.
func (r *Redactor) AddURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.Index(raw, "://"); i >= 0 {
			// unparsable (an unescaped character in the password): take what the grammar says
			rest := raw[i+3:]
			if e := strings.IndexAny(rest, "/?#"); e >= 0 && strings.LastIndexByte(rest[:e], '@') >= 0 {
				rest = rest[:e]
			}
			if at := strings.LastIndexByte(rest, '@'); at >= 0 {
				if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
					r.Add(rest[c+1 : at])
				}
			}
		}
		return
	}
	if p, ok := u.User.Password(); ok {
		r.Add(p)
		return
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		r.Add(u.User.Username())
	}
}

// AddSecretData registers the values of a Secret's data (base64-decoded by the caller) or
// stringData, and the credentials of every URL among them.
func (r *Redactor) AddSecretData(data map[string]string) {
	for _, v := range data {
		r.Add(v)
		if strings.Contains(v, "://") {
			r.AddURL(strings.TrimSpace(v))
		}
	}
}
