package lint

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/databases"
)

// BenchmarkLint124 lints the 124-file golang-migrate directory of the conversion tests (a table
// per file, every tenth file a CREATE INDEX CONCURRENTLY, one file in BEGIN/COMMIT, one with a
// BOM and CRLF) on a local PostgreSQL, with --latest 1 and in full, with `kubectl-atlas lint` and
// with `atlas migrate lint` (the community v1.2.3 on the converted directory), both as
// processes on the same dev database. hack/bench/lint.sh runs it and prints the ratios.
func BenchmarkLint124(b *testing.B) {
	env := benchSetup(b)
	for _, c := range []struct {
		name   string
		latest int
	}{{"latest1", 1}, {"full", 0}} {
		b.Run(c.name+"/kubectl-atlas", func(b *testing.B) {
			args := []string{"lint", "--dir", env.src, "--dev-url", env.devURL, "--fail-on", "none", "-o", "json"}
			if c.latest > 0 {
				args = append(args, "--latest", fmt.Sprint(c.latest))
			}
			for b.Loop() {
				benchRun(b, env.plugin, args...)
			}
		})
		b.Run(c.name+"/atlas", func(b *testing.B) {
			latest := c.latest
			if latest == 0 {
				latest = 1 << 20
			}
			args := []string{"migrate", "lint", "--dir", "file://" + env.converted, "--dev-url", env.devURL,
				"--latest", fmt.Sprint(latest), "--format", "{{ json .Files }}"}
			for b.Loop() {
				benchRun(b, env.atlas, args...)
			}
		})
	}
}

type benchEnv struct {
	src, converted, devURL, plugin, atlas string
}

// benchSetup runs once: a benchmark with sub-benchmarks runs its own body once.
func benchSetup(b *testing.B) benchEnv {
	b.Helper()
	atlas := os.Getenv("ATLAS_COMMUNITY")
	if atlas == "" {
		atlas, _ = filepath.Abs("../../bin/atlas-community")
	}
	if _, err := os.Stat(atlas); err != nil {
		b.Fatalf("the community atlas CLI is missing (%v): run `make atlas`", err)
	}
	e, stop, err := prepareBench(atlas)
	b.Cleanup(stop)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func prepareBench(atlas string) (e benchEnv, stop func(), err error) {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "kubectl-atlas-lint-bench-")
	stop = func() { _ = os.RemoveAll(tmp) }
	if err != nil {
		return e, stop, err
	}
	e = benchEnv{src: filepath.Join(tmp, "migrations"), converted: filepath.Join(tmp, "converted"), atlas: atlas}
	if err := writeFiles(e.src, golangMigrateDir(124)); err != nil {
		return e, stop, err
	}
	d, err := migdir.Read(e.src, migdir.Options{Format: migdir.FormatGolangMigrate})
	if err != nil {
		return e, stop, err
	}
	conv := map[string]string{}
	for _, f := range d.Files {
		conv[f.Name] = string(f.Data)
	}
	if err := writeFiles(e.converted, conv); err != nil {
		return e, stop, err
	}
	e.plugin = filepath.Join(tmp, "kubectl-atlas")
	if out, err := exec.Command("go", "build", "-o", e.plugin, "../../cmd/kubectl-atlas").CombinedOutput(); err != nil {
		return e, stop, fmt.Errorf("go build: %v: %s", err, out)
	}
	srv, err := databases.StartPostgres(ctx)
	if err != nil {
		return e, stop, err
	}
	stop = func() { _ = srv.Stop(); _ = os.RemoveAll(tmp) }
	e.devURL, err = srv.CreateDatabase(ctx, "dev")
	return e, stop, err
}

func benchRun(b *testing.B, bin string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ATLAS_NO_UPGRADE_SUGGESTIONS=1", "ATLAS_NO_ANON_TELEMETRY=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
}

func writeFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// golangMigrateDir is internal/migdir's fixture of the same name (apply_test.go): n numbered
// migrations in the shape of real projects.
func golangMigrateDir(n int) map[string]string {
	files := map[string]string{}
	for i := 1; i <= n; i++ {
		var up string
		switch {
		case i%10 == 0:
			up = fmt.Sprintf("CREATE INDEX CONCURRENTLY t%d_name ON t%d (name);\n", i-1, i-1)
		case i == 7:
			up = "BEGIN;\nCREATE TABLE t7 (id bigserial PRIMARY KEY, name text);\nINSERT INTO t7 (name) VALUES ('a;b');\nCOMMIT;\n"
		case i == 3:
			up = "\ufeff-- saved on Windows\r\nCREATE TABLE t3 (\r\n  id bigserial PRIMARY KEY,\r\n  name text\r\n);\r\n"
		default:
			up = fmt.Sprintf("CREATE TABLE t%d (id bigserial PRIMARY KEY, name text);\n", i)
		}
		files[fmt.Sprintf("%d_step%d.up.sql", i, i)] = up
		files[fmt.Sprintf("%d_step%d.down.sql", i, i)] = "SELECT 1;\n"
	}
	return files
}
