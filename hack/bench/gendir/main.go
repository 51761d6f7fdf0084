// Command gendir writes a synthetic atlas migration directory for the packing benchmark:
// N files of realistic DDL, about SIZE bytes in total, and a valid atlas.sum.
//
//	go run ./hack/bench/gendir DIR [N] [SIZE]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gendir DIR [N] [SIZE]")
		os.Exit(2)
	}
	dir, n, size := os.Args[1], 400, 900*1024
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		size, _ = strconv.Atoi(os.Args[3])
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	per := size / n
	var files []migrate.File
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "-- Migration %d: create table t%d.\n", i+1, i+1)
		fmt.Fprintf(&b, "CREATE TABLE t%d (\n  id bigint NOT NULL AUTO_INCREMENT,\n", i+1)
		for c := 0; b.Len() < per-80; c++ {
			fmt.Fprintf(&b, "  col_%03d varchar(255) NOT NULL DEFAULT 'value %d',\n", c, c)
		}
		b.WriteString("  PRIMARY KEY (id)\n);\n")
		name := fmt.Sprintf("2024%010d_t%d.sql", i+1, i+1)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			fail(err)
		}
		files = append(files, migrate.NewLocalFile(name, []byte(b.String())))
	}
	hf, err := migrate.NewHashFile(files)
	if err != nil {
		fail(err)
	}
	sum, err := hf.MarshalText()
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, migrate.HashFileName), sum, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendir:", err)
	os.Exit(1)
}
