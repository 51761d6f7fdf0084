// Command argocd is Argo CD v3.5.1's application-controller and repo-server in one binary, for the
// test bed only (internal/testbed/argocd). It dispatches like Argo CD's own cmd/main.go: by the
// name it is called under (argocd-application-controller, argocd-repo-server) or by
// ARGOCD_BINARY_NAME. Only these two commands are linked in: no API server, no UI, no CLI.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	// As Argo CD's main: klog goes through Argo CD's logger (level and format flags).
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var cmd *cobra.Command
	switch name {
	case common.CommandApplicationController:
		cmd = appcontroller.NewCommand()
	case common.CommandRepoServer:
		cmd = reposerver.NewCommand()
	default:
		fmt.Fprintf(os.Stderr, "argocd (kubectl-atlas test bed): call me as %s or %s (or set ARGOCD_BINARY_NAME), not %q\n",
			common.CommandApplicationController, common.CommandRepoServer, name)
		os.Exit(2)
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
