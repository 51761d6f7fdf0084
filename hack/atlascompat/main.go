// Command atlascompat is installed as `atlas` in front of a community build of the atlas CLI
// (built from source; the official binary needs no wrapper). The Atlas Operator relies on three
// behaviours of the official binary that the community build lacks; this bridges exactly those
// and runs every other command unchanged:
//
//  1. `atlas version`: the community build prints "atlas community version vX"; the operator's
//     client (atlasexec) requires a line starting "atlas version vX" and exits at start-up
//     otherwise. The line is rewritten, the rest passed on.
//  2. `atlas whoami`: missing in the community build. Logged out, the official binary prints
//     "Error: command requires 'atlas login'" and exits 1, which the operator reads as "no Atlas
//     Cloud"; so does this.
//  3. `atlas schema inspect ... --format '{{ .Hash }}'`: the community build has no .Hash field.
//     The operator only compares the value with the previous one, so a stable digest of the
//     default inspect output (base64 of its SHA-256) stands in.
//
// The community binary is $ATLAS_COMMUNITY, else atlas-community beside this program's directory
// (bin/atlas-community for bin/atlas-compat/atlas, as `make atlas` lays them out).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// hashFormat is the only --format value of `schema inspect` the wrapper computes itself.
const hashFormat = "{{ .Hash }}"

func main() {
	real, err := community()
	if err != nil {
		fmt.Fprintln(os.Stderr, "atlas (kubectl-atlas compatibility wrapper):", err)
		os.Exit(1)
	}
	args := os.Args[1:]
	switch {
	case len(args) >= 1 && args[0] == "whoami":
		fmt.Fprintln(os.Stderr, "Error: command requires 'atlas login'")
		os.Exit(1)
	case len(args) >= 1 && args[0] == "version":
		os.Exit(version(real, args))
	case len(args) >= 2 && args[0] == "schema" && args[1] == "inspect":
		if rest, ok := withoutHashFormat(args); ok {
			os.Exit(inspectHash(real, rest))
		}
	}
	// Everything else: become the community binary (same stdio, signals and exit code).
	err = syscall.Exec(real, append([]string{real}, args...), os.Environ())
	fmt.Fprintln(os.Stderr, "atlas (kubectl-atlas compatibility wrapper): exec", real+":", err)
	os.Exit(1)
}

// community locates the community binary this wrapper stands in front of.
func community() (string, error) {
	if p := os.Getenv("ATLAS_COMMUNITY"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(filepath.Dir(self)), "atlas-community")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("community atlas binary not found at %s: run `make atlas` or set ATLAS_COMMUNITY", p)
	}
	return p, nil
}

// version runs `atlas version` and rewrites the community line to the official form.
func version(real string, args []string) int {
	out, code := capture(real, args, nil)
	os.Stdout.Write(rewriteVersion(out))
	return code
}

func rewriteVersion(out []byte) []byte {
	return bytes.Replace(out, []byte("atlas community version "), []byte("atlas version "), 1)
}

// withoutHashFormat reports whether args ask for the schema hash and returns them without it.
func withoutHashFormat(args []string) ([]string, bool) {
	rest := make([]string, 0, len(args))
	found := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--format" && i+1 < len(args) && strings.TrimSpace(args[i+1]) == hashFormat:
			found = true
			i++
		case strings.HasPrefix(a, "--format=") && strings.TrimSpace(strings.TrimPrefix(a, "--format=")) == hashFormat:
			found = true
		default:
			rest = append(rest, a)
		}
	}
	return rest, found
}

// inspectHash prints base64(sha256(default inspect output)) or passes the error on.
func inspectHash(real string, args []string) int {
	var stderr bytes.Buffer
	out, code := capture(real, args, &stderr)
	if code != 0 {
		os.Stdout.Write(out)
		os.Stderr.Write(stderr.Bytes())
		return code
	}
	sum := sha256.Sum256(out)
	// No newline: atlas prints a --format template as is.
	fmt.Print(base64.StdEncoding.EncodeToString(sum[:]))
	return 0
}

// capture runs the community binary and returns its stdout and exit code; stderr goes to
// errOut, or straight through when nil.
func capture(real string, args []string, errOut *bytes.Buffer) ([]byte, int) {
	cmd := exec.Command(real, args...)
	cmd.Stdin = os.Stdin
	if errOut != nil {
		cmd.Stderr = errOut
	} else {
		cmd.Stderr = os.Stderr
	}
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out, exit.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "atlas (kubectl-atlas compatibility wrapper):", err)
		return out, 1
	}
	return out, 0
}
