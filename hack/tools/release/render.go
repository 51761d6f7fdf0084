package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"text/template"
)

// semverTag is what krew accepts as spec.version: a semantic version with a leading v.
var semverTag = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Render executes a krew-release-bot style template: .TagName is the version and
// `addURIAndSha "URL" .TagName` becomes the uri and sha256 lines of one platform, where the
// sha256 is that of dist/<base name of URL> (the archive that will be uploaded under that URL).
func Render(tmpl, tag, dist string) ([]byte, error) {
	if !semverTag.MatchString(tag) {
		return nil, fmt.Errorf("version %q is not a semantic version with a leading v (krew needs one, e.g. v0.1.0)", tag)
	}
	funcs := template.FuncMap{
		"addURIAndSha": func(rawURL, tag string) (string, error) {
			u, err := execute(rawURL, tag, nil)
			if err != nil {
				return "", fmt.Errorf("addURIAndSha %q: %w", rawURL, err)
			}
			sum, err := sha256File(filepath.Join(dist, path.Base(u)))
			if err != nil {
				return "", fmt.Errorf("archive for %s: %w (run hack/dist.sh)", u, err)
			}
			return fmt.Sprintf("uri: %s\n    sha256: %q", u, sum), nil
		},
	}
	out, err := execute(tmpl, tag, funcs)
	if err != nil {
		return nil, err
	}
	return []byte(out), nil
}

func execute(text, tag string, funcs template.FuncMap) (string, error) {
	t := template.New("krew").Option("missingkey=error")
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	t, err := t.Parse(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, struct{ TagName string }{tag}); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func sha256File(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
