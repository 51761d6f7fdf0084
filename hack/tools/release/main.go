// Command release packs kubectl-atlas release archives, renders the krew manifest from the
// krew.yaml template and validates it with krew's own validate-krew-manifest. hack/dist.sh and
// hack/validate-krew.sh drive it; it lives in the tools module so krew's dependencies stay out of
// the plugin's module.
//
//	release archive -o dist/x.tar.gz [-mtime UNIX] FILE...   (.tar.gz or .zip, files at the root)
//	release render  -template krew.yaml -tag v1.2.3 -dist dist -o dist/krew/atlas.yaml
//	release check   -manifest dist/krew/atlas.yaml -dist dist -validator BIN -krew BIN
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: release archive|render|check [flags]")
	}
	fs := flag.NewFlagSet("release "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "archive":
		out := fs.String("o", "", "archive to write (.tar.gz or .zip)")
		mtime := fs.Int64("mtime", 0, "modification time of every entry, unix seconds (reproducible archives)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" || fs.NArg() == 0 {
			return errors.New("archive: -o and at least one file are required")
		}
		return WriteArchive(*out, time.Unix(*mtime, 0).UTC(), fs.Args())
	case "render":
		tmpl := fs.String("template", "krew.yaml", "krew manifest template")
		tag := fs.String("tag", "", "release version, e.g. v0.1.0")
		dist := fs.String("dist", "dist", "directory holding the archives")
		out := fs.String("o", "", "rendered manifest (its file name must be <plugin>.yaml)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		b, err := os.ReadFile(*tmpl)
		if err != nil {
			return err
		}
		rendered, err := Render(string(b), *tag, *dist)
		if err != nil {
			return fmt.Errorf("%s: %w", *tmpl, err)
		}
		return writeFileAtomic(*out, rendered, 0o644)
	case "check":
		manifest := fs.String("manifest", "dist/krew/atlas.yaml", "rendered krew manifest")
		dist := fs.String("dist", "dist", "directory holding the archives")
		validator := fs.String("validator", "", "validate-krew-manifest binary")
		krew := fs.String("krew", "", "krew binary (installed as kubectl-krew for the install check)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *validator == "" || *krew == "" {
			return errors.New("check: -validator and -krew are required")
		}
		return Check(*manifest, *dist, *validator, *krew, os.Stderr)
	}
	return fmt.Errorf("unknown subcommand %q: want archive, render or check", args[0])
}
