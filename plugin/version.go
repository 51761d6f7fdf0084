package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
)

// Set by `make dist` through -ldflags "-X ...plugin.version=..." (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// VersionInfo is what `kubectl atlas version -o json|yaml` prints.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// VersionOptions prints the build information.
type VersionOptions struct {
	Output string
	genericiooptions.IOStreams
}

// NewCmdVersion returns the version command.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date of kubectl-atlas",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: '' (one line), json or yaml")
	return cmd
}

// Validate checks the output format.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "", "json", "yaml":
		return nil
	}
	return exitcode.UsageErrorf("--output must be json or yaml, not %q", o.Output)
}

// Run prints the version.
func (o *VersionOptions) Run() error {
	info := VersionInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	switch o.Output {
	case "json":
		b, _ := json.MarshalIndent(info, "", "  ")
		_, err := fmt.Fprintln(o.Out, string(b))
		return err
	case "yaml":
		b, _ := yaml.Marshal(info)
		_, err := o.Out.Write(b)
		return err
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-atlas %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.BuildDate, info.GoVersion, info.Platform)
	return err
}
