// Package redact hides credentials in text before kubectl-atlas prints it. The Atlas Operator
// copies atlas CLI errors, database URLs and their passwords included, into condition messages;
// API servers, kustomize and database drivers echo URLs and values in their errors.
//
// Two mechanisms, both applied by String and by Writer:
//   - Patterns: credential shapes recognised without knowing the value (URL passwords, DSNs,
//     password=, token:, Authorization, ...);
//   - known secrets: values the plugin knows are secret (passwords of URLs given in flags, Secret
//     data it reads) registered with Add, AddURL or AddSecretData and masked wherever they appear.
//
// The plugin wraps its stdout and stderr in a Writer once (plugin.NewCmdAtlas), so every byte it
// prints passes through here; only manifests a verb exists to emit bypass it (Payload).
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

// String returns s with every known secret and every recognised credential shape masked.
func String(s string) string {
	return Patterns(known.replace(s))
}

// registry holds the known secrets of this process.
type registry struct {
	mu       sync.RWMutex
	values   map[string]struct{}
	replacer *strings.Replacer
}

var known = &registry{values: map[string]struct{}{}}

func (r *registry) replace(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Add registers secret values: from now on String and every Writer mask them wherever they
// appear, also percent-encoded (URLs) and JSON/Go-quoted (-o json, %q in errors). Values shorter
// than MinSecretLen are ignored. A multi-line value also registers each of its lines of 8
// characters or more, because Writer redacts line by line.
func Add(values ...string) {
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
	known.mu.Lock()
	defer known.mu.Unlock()
	changed := false
	for _, v := range all {
		if len(v) < MinSecretLen {
			continue
		}
		for _, form := range forms(v) {
			if _, ok := known.values[form]; !ok && len(form) >= MinSecretLen {
				known.values[form] = struct{}{}
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	all = make([]string, 0, len(known.values))
	for v := range known.values {
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
	known.replacer = strings.NewReplacer(pairs...)
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
func AddURL(raw string) {
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
					Add(rest[c+1 : at])
				}
			}
		}
		return
	}
	if p, ok := u.User.Password(); ok {
		Add(p)
		return
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		Add(u.User.Username())
	}
}

// AddSecretData registers the values of a Secret's data (base64-decoded by the caller) or
// stringData, and the credentials of every URL among them.
func AddSecretData(data map[string]string) {
	for _, v := range data {
		Add(v)
		if strings.Contains(v, "://") {
			AddURL(strings.TrimSpace(v))
		}
	}
}
