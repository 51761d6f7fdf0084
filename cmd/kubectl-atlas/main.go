// Command kubectl-atlas is the kubectl plugin `kubectl atlas`.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // cloud provider auth (exec, oidc, ...)

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/startup"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

func main() {
	if shortRun(os.Args[1:]) {
		// Done before garbage would matter: the collector stays off (see internal/startup),
		// bounded by a memory limit should a completion list a large cluster.
		debug.SetMemoryLimit(256 << 20)
	} else {
		startup.Done()
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// plugin.Main redacts every byte it writes, the error included.
	os.Exit(exitcode.Code(plugin.Main(context.Background(), streams, os.Args[1:])))
}

// shortRun reports whether args ask for a run that ends before garbage matters: what kubectl
// runs on every TAB (shell completion), version, and packing a directory (configmap, which
// reads a few MiB and keeps the collector off for its run anyway).
func shortRun(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "__complete", "__completeNoDesc", "version", "configmap", "cm":
		return true
	}
	return false
}
