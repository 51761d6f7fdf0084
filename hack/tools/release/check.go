package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// uriLine matches the uri line of a platform in a rendered manifest.
var uriLine = regexp.MustCompile(`(?m)^(\s*uri:\s*)(\S+)\s*$`)

// Check runs krew's validate-krew-manifest twice: structurally on the manifest as released, then
// with install on a copy whose uris point at a local HTTP server serving dist/ (the very archives
// the sha256 sums were taken from; the release URLs do not exist until they are uploaded).
// The install step runs `kubectl krew install --manifest` for every platform, so a `kubectl`
// that forwards to the krew binary is put first on PATH, as kubectl itself would run kubectl-krew.
func Check(manifest, dist, validator, krew string, log io.Writer) error {
	abs := func(p string) (string, error) { return filepath.Abs(p) }
	var err error
	if validator, err = abs(validator); err != nil {
		return err
	}
	if krew, err = abs(krew); err != nil {
		return err
	}

	fmt.Fprintf(log, "validate-krew-manifest -skip-install %s\n", manifest)
	if err := runTool(log, os.Environ(), validator, "-manifest", manifest, "-skip-install"); err != nil {
		return fmt.Errorf("%s: structural validation failed: %w", manifest, err)
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	defer srv.Close()

	b, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	n := 0
	local := uriLine.ReplaceAllStringFunc(string(b), func(line string) string {
		m := uriLine.FindStringSubmatch(line)
		n++
		return m[1] + srv.URL + "/" + path.Base(m[2])
	})
	if n == 0 {
		return fmt.Errorf("%s: no platform uri found", manifest)
	}

	tmp, err := os.MkdirTemp("", "krew-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The validator takes the plugin name from the file name, so keep it.
	localManifest := filepath.Join(tmp, filepath.Base(manifest))
	if err := os.WriteFile(localManifest, []byte(local), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(tmp, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(krew, filepath.Join(bin, "kubectl-krew")); err != nil {
		return err
	}
	shim := "#!/bin/sh\n# kubectl's plugin dispatch, reduced to the one plugin the validator calls.\n" +
		"[ \"$1\" = krew ] || { echo \"kubectl shim: only 'kubectl krew' is available here\" >&2; exit 1; }\n" +
		"shift\nexec \"$(dirname \"$0\")/kubectl-krew\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(shim), 0o755); err != nil {
		return err
	}

	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	fmt.Fprintf(log, "validate-krew-manifest %s (install of all %d platforms from %s)\n", manifest, n, dist)
	if err := runTool(log, env, validator, "-manifest", localManifest); err != nil {
		return fmt.Errorf("%s: install validation failed: %w", manifest, err)
	}
	return nil
}

func runTool(log io.Writer, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(log, "%s", out)
	return nil
}
