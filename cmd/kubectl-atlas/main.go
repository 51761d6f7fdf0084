// Command kubectl-atlas is the kubectl plugin `kubectl atlas`.
package main

import (
	"context"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // cloud provider auth (exec, oidc, ...)

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// plugin.Main redacts every byte it writes, the error included.
	os.Exit(exitcode.Code(plugin.Main(context.Background(), streams, os.Args[1:])))
}
