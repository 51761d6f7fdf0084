package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var platforms = []struct{ os, arch, ext string }{
	{"linux", "amd64", "tar.gz"}, {"linux", "arm64", "tar.gz"},
	{"darwin", "amd64", "tar.gz"}, {"darwin", "arm64", "tar.gz"},
	{"windows", "amd64", "zip"}, {"windows", "arm64", "zip"},
}

// fakeDist packs small stand-ins for the binaries into archives named as hack/dist.sh names them.
func fakeDist(t *testing.T, tag string, withLicense bool) string {
	t.Helper()
	src, dist := t.TempDir(), t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(src, name)
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
		return p
	}
	lic := write("LICENSE", "Apache License 2.0\n", 0o644)
	comp := write("kubectl_complete-atlas", "#!/bin/sh\nexec kubectl atlas __complete \"$@\"\n", 0o755)
	for _, p := range platforms {
		bin := "kubectl-atlas"
		if p.os == "windows" {
			bin += ".exe"
		}
		files := []string{write(bin, "#!/bin/sh\necho "+p.os+"/"+p.arch+"\n", 0o755), comp}
		if withLicense {
			files = append(files, lic)
		}
		out := filepath.Join(dist, "kubectl-atlas_"+tag+"_"+p.os+"_"+p.arch+"."+p.ext)
		require.NoError(t, WriteArchive(out, time.Unix(1700000000, 0), files))
	}
	return dist
}

func renderTemplate(t *testing.T, tag, dist string) string {
	t.Helper()
	tmpl, err := os.ReadFile("../../../krew.yaml")
	require.NoError(t, err)
	out, err := Render(string(tmpl), tag, dist)
	require.NoError(t, err)
	p := filepath.Join(dist, "krew", "atlas.yaml")
	require.NoError(t, writeFileAtomic(p, out, 0o644))
	return p
}

func TestRenderFillsEveryPlatform(t *testing.T) {
	dist := fakeDist(t, "v1.2.3", true)
	p := renderTemplate(t, "v1.2.3", dist)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "{{")

	var m struct {
		Spec struct {
			Version          string
			ShortDescription string `json:"shortDescription"`
			Platforms        []struct {
				URI    string
				Sha256 string
				Bin    string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &m))
	assert.Equal(t, "v1.2.3", m.Spec.Version)
	assert.LessOrEqual(t, len(m.Spec.ShortDescription), 50, "the krew index asks for a short description of at most 50 characters")
	require.Len(t, m.Spec.Platforms, len(platforms))
	for i, p := range platforms {
		base := "kubectl-atlas_v1.2.3_" + p.os + "_" + p.arch + "." + p.ext
		assert.Equal(t, "https://github.com/kubectl-atlas/kubectl-atlas/releases/download/v1.2.3/"+base, m.Spec.Platforms[i].URI)
		want, err := sha256File(filepath.Join(dist, base))
		require.NoError(t, err)
		assert.Equal(t, want, m.Spec.Platforms[i].Sha256)
	}
}

func TestRenderErrors(t *testing.T) {
	dist := fakeDist(t, "v1.2.3", true)
	tmpl, err := os.ReadFile("../../../krew.yaml")
	require.NoError(t, err)
	for _, tc := range []struct{ name, tag, dist, want string }{
		{"not semver", "8705a24-dirty", dist, "not a semantic version"},
		{"no leading v", "1.2.3", dist, "not a semantic version"},
		{"archive missing", "v9.9.9", dist, "kubectl-atlas_v9.9.9_linux_amd64.tar.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(string(tmpl), tc.tag, tc.dist)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestArchivesAreReproducibleAndFlat(t *testing.T) {
	a := fakeDist(t, "v0.1.0", true)
	b := fakeDist(t, "v0.1.0", true)
	for _, p := range platforms {
		base := "kubectl-atlas_v0.1.0_" + p.os + "_" + p.arch + "." + p.ext
		x, err := os.ReadFile(filepath.Join(a, base))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, base))
		require.NoError(t, err)
		assert.Equal(t, x, y, "%s differs between two runs", base)
		assert.ElementsMatch(t, []string{binName(p.os), "kubectl_complete-atlas", "LICENSE"}, archiveNames(t, x, p.ext))
	}
}

func binName(goos string) string {
	if goos == "windows" {
		return "kubectl-atlas.exe"
	}
	return "kubectl-atlas"
}

func archiveNames(t *testing.T, b []byte, ext string) []string {
	var names []string
	if ext == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		return names
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
}

// TestValidatorAcceptsRenderedManifest runs krew's own validate-krew-manifest, install included,
// on a manifest rendered from the real template, and shows it rejects the broken cases.
func TestValidatorAcceptsRenderedManifest(t *testing.T) {
	tools := t.TempDir()
	validator, krew := filepath.Join(tools, "validate-krew-manifest"), filepath.Join(tools, "krew")
	for out, pkg := range map[string]string{validator: "sigs.k8s.io/krew/cmd/validate-krew-manifest", krew: "sigs.k8s.io/krew/cmd/krew"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
	}

	t.Run("accepted", func(t *testing.T) {
		dist := fakeDist(t, "v0.1.0", true)
		var log bytes.Buffer
		require.NoError(t, Check(renderTemplate(t, "v0.1.0", dist), dist, validator, krew, &log))
		assert.Contains(t, log.String(), "all 6 spec.platforms installed fine")
	})
	t.Run("archive without LICENSE", func(t *testing.T) {
		dist := fakeDist(t, "v0.1.0", false)
		err := Check(renderTemplate(t, "v0.1.0", dist), dist, validator, krew, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "LICENSE")
	})
	t.Run("archive changed after rendering", func(t *testing.T) {
		dist := fakeDist(t, "v0.1.0", true)
		manifest := renderTemplate(t, "v0.1.0", dist)
		lic := filepath.Join(t.TempDir(), "LICENSE")
		require.NoError(t, os.WriteFile(lic, []byte("other"), 0o644))
		require.NoError(t, WriteArchive(filepath.Join(dist, "kubectl-atlas_v0.1.0_darwin_arm64.tar.gz"), time.Unix(0, 0), []string{lic}))
		err := Check(manifest, dist, validator, krew, io.Discard)
		require.Error(t, err)
		assert.Contains(t, strings.ToLower(err.Error()), "sha256")
	})
	t.Run("bad manifest name", func(t *testing.T) {
		dist := fakeDist(t, "v0.1.0", true)
		manifest := renderTemplate(t, "v0.1.0", dist)
		other := filepath.Join(filepath.Dir(manifest), "kubectl-atlas.yaml")
		require.NoError(t, os.Rename(manifest, other))
		err := Check(other, dist, validator, krew, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "structural validation failed")
	})
}
