package controlplane

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// Main is the TestMain of a test package that shares one control plane among its tests: it
// starts the control plane, hands it to ready (to build the package's clients), runs the tests,
// stops it and exits with the tests' code. A fuzzing run (-test.fuzz) gets no control plane:
// every fuzz worker process would start one of its own.
func Main(m *testing.M, opts Options, ready func(*Env)) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run())
	}
	env, err := Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ready(env)
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
