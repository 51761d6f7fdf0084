package plugin

import (
	"encoding/json"
	"fmt"
	goruntime "runtime"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"

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
	// printer is cli-runtime's JSON or YAML printer (the indentation of status -o json|yaml).
	printer printers.ResourcePrinter
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
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: '' (one line), json or yaml")
	return cmd
}

// Complete picks the printer for -o.
func (o *VersionOptions) Complete() error {
	if o.Output == "" {
		return nil
	}
	p, err := genericclioptions.NewJSONYamlPrintFlags().ToPrinter(o.Output)
	if err != nil {
		return exitcode.UsageErrorf("--output must be json or yaml, not %q", o.Output)
	}
	o.printer = p
	return nil
}

// Validate has nothing left to check: Complete refused an unknown -o.
func (o *VersionOptions) Validate() error { return nil }

// Run prints the version.
func (o *VersionOptions) Run() error {
	info := buildInfo()
	if o.printer != nil {
		// The info is no Kubernetes object: runtime.Unknown is how cli-runtime's printers take
		// plain JSON.
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		return o.printer.PrintObj(&runtime.Unknown{Raw: b}, o.Out)
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-atlas %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.BuildDate, info.GoVersion, info.Platform)
	return err
}

// buildInfo is this binary's version information.
func buildInfo() VersionInfo {
	return VersionInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: goruntime.Version(), Platform: goruntime.GOOS + "/" + goruntime.GOARCH}
}
