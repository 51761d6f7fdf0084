package redact

import "strings"

// AddSpec registers the credentials written into an object's spec: every URL (its password)
// and every string under a key that names a password, token or secret, down to four levels
// (url, devURL, credentials.password of the Atlas kinds, and the like).
func (r *Redactor) AddSpec(spec any) {
	var walk func(v any, key string, depth int)
	walk = func(v any, key string, depth int) {
		switch c := v.(type) {
		case string:
			k := strings.ToLower(key)
			if strings.Contains(c, "://") {
				r.AddURL(c)
			} else if strings.Contains(k, "password") || strings.Contains(k, "token") || strings.Contains(k, "secret") {
				r.Add(c)
			}
		case map[string]any:
			if depth < 4 {
				for k, item := range c {
					walk(item, k, depth+1)
				}
			}
		}
	}
	walk(spec, "spec", 0)
}
