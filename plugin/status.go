package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// NewCmdStatus is a placeholder until the verb is built (see the open issues).
func NewCmdStatus(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	return &cobra.Command{
		Use:    "status",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitcode.Newf(exitcode.Failure, "%s is not built yet", cmd.Name())
		},
	}
}
