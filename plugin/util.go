package plugin

import (
	"github.com/spf13/cobra"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// flagError marks flag parse errors as usage errors (exit 2), with a pointer to --help.
func flagError(cmd *cobra.Command, err error) error {
	return exitcode.UsageErrorf("%v\nSee '%s -h' for help.", err, cmd.CommandPath())
}

// usageArgs wraps a cobra.PositionalArgs so that wrong arguments exit with the usage code.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return flagError(cmd, err)
		}
		return nil
	}
}
