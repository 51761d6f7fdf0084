package scaffold

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"
)

// blockToken marks a multi-line string in the copy that sigs.k8s.io/yaml renders; blockYAML
// puts the text back as a literal block scalar.
const blockToken = "kubectl-atlas-block-value-"

// blockYAML renders any object like sigs.k8s.io/yaml, except that every multi-line text is a
// literal block scalar: sigs.k8s.io/yaml writes text with trailing spaces or a leading space as
// one escaped line, which makes a committed folder unreviewable. The result is parsed back and
// compared with the object; if anything differs the plain rendering is returned instead.
//
// The block scalars are written by hand (writeBlock) because no YAML library here writes them
// for migration files: yaml.v3's Node with LiteralStyle (healthcheck/render.go uses it for
// scripts, which have neither) falls back to one double-quoted line for text with a space before
// a line break or at its end, common in SQL, and drops a leading blank line ("\na\n" comes out
// as "|4\n    a\n", which reads back as "a\n"); sigs.k8s.io/yaml, kubectl's printer, does the
// rest of the document so it stays what kubectl would print.
func blockYAML(obj map[string]any) ([]byte, error) {
	var texts []string
	masked := maskBlocks(obj, &texts).(map[string]any)
	plain, err := yaml.Marshal(obj)
	if err != nil || len(texts) == 0 {
		return plain, err
	}
	out, err := yaml.Marshal(masked)
	if err != nil {
		return plain, nil
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(plain))
	for _, line := range strings.SplitAfter(string(out), "\n") {
		i := strings.Index(line, blockToken)
		if i < 0 || (!strings.HasSuffix(line[:i], ": ") && !strings.HasSuffix(line[:i], "- ")) {
			b.WriteString(line)
			continue
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(line[i+len(blockToken):]), "%d", &n); err != nil || n >= len(texts) {
			return plain, nil
		}
		b.WriteString(line[:i])
		parent := len(line) - len(strings.TrimLeft(line, " -"))
		if strings.HasSuffix(line[:i], "- ") {
			parent = i - 2
		}
		writeBlock(&b, texts[n], parent+2, parent)
	}
	if !sameObject(obj, b.Bytes()) {
		return plain, nil
	}
	return b.Bytes(), nil
}

// maskBlocks copies v with every multi-line string that can be a block scalar replaced by a
// token naming its index in texts.
func maskBlocks(v any, texts *[]string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = maskBlocks(e, texts)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = maskBlocks(e, texts)
		}
		return l
	case string:
		if strings.Contains(x, "\n") && literalSafe(x) {
			*texts = append(*texts, x)
			return fmt.Sprintf("%s%d", blockToken, len(*texts)-1)
		}
	}
	return v
}

// sameObject reports whether out parses to obj (compared through JSON, as the API server
// reads it).
func sameObject(obj map[string]any, out []byte) bool {
	j, err := json.Marshal(obj)
	if err != nil {
		return false
	}
	var want, got any
	if json.Unmarshal(j, &want) != nil || yaml.Unmarshal(out, &got) != nil {
		return false
	}
	return reflect.DeepEqual(want, got)
}
