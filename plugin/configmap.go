package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// NewCmdConfigMap is a placeholder until the verb is built (see the open issues).
func NewCmdConfigMap(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	return &cobra.Command{
		Use:    "configmap",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitcode.Newf(exitcode.Failure, "%s is not built yet", cmd.Name())
		},
	}
}
