package scaffold

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// fastConfigMapYAML renders a ConfigMap whose data are migration files without the
// JSON -> YAML round trip of sigs.k8s.io/yaml, which costs most of the time of packing a
// large directory (the `configmap` verb must beat `kubectl create configmap` twofold). Values
// that are safe as literal block scalars are written as such; anything else (and the rest of
// the object) goes through sigs.k8s.io/yaml, so the result parses to the same object. ok is
// false when the object is not a plain ConfigMap.
func fastConfigMapYAML(u *unstructured.Unstructured) ([]byte, bool, error) {
	if u.GetAPIVersion() != "v1" || u.GetKind() != "ConfigMap" {
		return nil, false, nil
	}
	rest := map[string]any{}
	var data map[string]any
	for k, v := range u.Object {
		switch k {
		case "apiVersion":
		case "data":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false, nil
			}
			data = m
		case "kind", "metadata":
			rest[k] = v
		default: // binaryData, immutable: keep the generic path
			return nil, false, nil
		}
	}
	keys := make([]string, 0, len(data))
	size := 0
	for k, v := range data {
		s, ok := v.(string)
		if !ok || !utf8.ValidString(k) || !utf8.ValidString(s) {
			return nil, false, nil
		}
		keys = append(keys, k)
		size += len(k) + len(s) + len(s)/16 + 16
	}
	sort.Strings(keys)
	tail, err := yaml.Marshal(rest)
	if err != nil {
		return nil, true, err
	}
	var b bytes.Buffer
	b.Grow(size + len(tail) + 32)
	b.WriteString("apiVersion: v1\n")
	if data != nil {
		if len(keys) == 0 {
			b.WriteString("data: {}\n")
		} else {
			b.WriteString("data:\n")
		}
		for _, k := range keys {
			s := data[k].(string)
			if literalSafe(s) && (plainKey(k) || strings.Contains(s, "\n")) {
				writeLiteral(&b, k, s)
				continue
			}
			b.WriteString("  ")
			writeQuoted(&b, k)
			b.WriteString(": ")
			writeQuoted(&b, s)
			b.WriteByte('\n')
		}
	}
	b.Write(tail)
	return b.Bytes(), true, nil
}

// writeQuoted writes s as a YAML double-quoted scalar that escapes everything but printable
// ASCII, so any string survives exactly (sigs.k8s.io/yaml itself drops U+0085, for one).
func writeQuoted(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>uint(shift))&0xf])
			}
		default:
			b.WriteString(`\U`)
			for shift := 28; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>uint(shift))&0xf])
			}
		}
	}
	b.WriteByte('"')
}

// plainKey: names of migration files and atlas.sum, which YAML reads as strings unquoted.
func plainKey(k string) bool {
	if !strings.HasSuffix(k, ".sql") && !strings.HasSuffix(k, ".hcl") && k != "atlas.sum" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return k[0] != '-' && k[0] != '.'
}

// literalSafe reports whether s can be a literal block scalar: non-empty, not only line
// breaks, and only characters YAML prints as-is (no CR or other line breaks YAML 1.1 knows, no
// controls). Leading spaces or blank lines are fine: writeLiteral then adds an indentation
// indicator.
func literalSafe(s string) bool {
	if strings.TrimRight(s, "\n") == "" {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}

// writeLiteral writes `  key: |` and the value indented by four spaces.
func writeLiteral(b *bytes.Buffer, k, s string) {
	b.WriteString("  ")
	if plainKey(k) {
		b.WriteString(k)
	} else {
		writeQuoted(b, k)
	}
	b.WriteString(": ")
	writeBlock(b, s, 4, 2)
}

// writeBlock writes s as a literal block scalar whose lines are indented by indent spaces,
// parentIndent being the indentation of the key it belongs to: the header with the chomping
// indicator that keeps its trailing newlines exactly, and an indentation indicator when the
// first line starts with a space or tab or is blank (YAML would otherwise guess the
// indentation from it).
func writeBlock(b *bytes.Buffer, s string, indent, parentIndent int) {
	b.WriteByte('|')
	if s[0] == ' ' || s[0] == '\t' || s[0] == '\n' {
		b.WriteString(strconv.Itoa(indent - parentIndent))
	}
	body := strings.TrimRight(s, "\n")
	switch trailing := len(s) - len(body); {
	case trailing == 0:
		b.WriteString("-\n")
	case trailing == 1:
		b.WriteString("\n")
	default:
		b.WriteString("+\n")
	}
	pad := strings.Repeat(" ", indent)
	for len(body) > 0 {
		line := body
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = ""
		}
		if line != "" {
			b.WriteString(pad)
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	for i := len(strings.TrimRight(s, "\n")) + 1; i < len(s); i++ {
		b.WriteByte('\n')
	}
}
