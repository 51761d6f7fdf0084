package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
)

// TestDemoScript runs hack/demo.sh (what `make demo` runs) end to end with a freshly built
// plugin, playing the operator (DEMO_PLAY_OPERATOR=1: `make test` needs no atlas CLI), and checks
// the story it tells and that it leaves no control plane behind. demo_e2e_test.go runs it with
// the real operator under `make e2e`.
func TestDemoScript(t *testing.T) {
	log := runDemo(t, "DEMO_PLAY_OPERATOR=1")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`this demo PLAYS THE ATLAS OPERATOR`),
		regexp.MustCompile(`(?m)^blog\s+AtlasMigration\s+Progressing\b`),
		regexp.MustCompile(`this step PLAYS THE ATLAS OPERATOR`),
		regexp.MustCompile(`atlasmigration/blog healthy`),
		regexp.MustCompile(`(?m)^blog\s+AtlasMigration\s+Healthy\s+Applied\s+20240602120000\b`),
		regexp.MustCompile(`resource.customizations.health.db.atlasgo.io_AtlasMigration`),
		regexp.MustCompile(`No tables: the operator was played`),
		regexp.MustCompile(`control plane stopped`),
	} {
		assert.Regexp(t, want, log)
	}
	assert.Less(t, strings.Index(log, "Progressing"), strings.Index(log, "this step PLAYS THE ATLAS OPERATOR"), "the status before the operator is played")
}

// runDemo runs hack/demo.sh with a freshly built plugin and env, and returns its output after
// checking it succeeded and removed its work folder.
func runDemo(t *testing.T, env ...string) string {
	t.Helper()
	_, err := controlplane.AssetsDir() // fail, with the fix, when bin/testbin is missing
	require.NoError(t, err)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "kubectl-atlas")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-atlas")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command("bash", "hack/demo.sh")
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "KUBECTL_ATLAS="+bin, "NO_COLOR=1"), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	log := buf.String()
	require.NoError(t, err, log)
	kubeconfig := regexp.MustCompile(`KUBECONFIG=(\S+)`).FindStringSubmatch(log)
	require.Len(t, kubeconfig, 2)
	_, err = os.Stat(filepath.Dir(kubeconfig[1]))
	assert.True(t, os.IsNotExist(err), "the demo removes its work folder")
	return log
}
