package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// NewCmdKustomizeFn is a placeholder until the kustomize generator is built.
func NewCmdKustomizeFn(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "kustomize-fn",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitcode.Newf(exitcode.Failure, "%s is not built yet", cmd.Name())
		},
	}
}
