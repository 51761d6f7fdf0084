// Package plugin holds the cobra commands of kubectl-atlas, one file per verb.
//
// Each verb follows kubectl's Options pattern: an XOptions struct with IOStreams (and the shared
// ConfigFlags where it talks to a cluster), NewCmdX wiring flags to it, and Complete / Validate /
// Run. Commands stay thin: the work lives in the packages under internal/, healthcheck/ and lua/.
package plugin

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr/funcr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

const rootLong = `kubectl atlas: GitOps for database schemas with the Atlas Operator and Argo CD.

It scaffolds sync-wave-ordered manifests from migration directories and schema files, packs
migration directories into validated ConfigMaps, generates and tests the Argo CD health checks
for AtlasSchema and AtlasMigration, shows, waits for and applies Atlas resources in a cluster
(every kind of db.atlasgo.io it serves), lists an AtlasMigration's migrations with their state,
and finds out why a resource is stuck.

Exit codes:
  0    success
  1    error (bad input, API error, failed write)
  2    usage error (wrong flags or arguments)
  3    a resource is Degraded, doctor found a FAIL, or a health check test case failed
  4    timed out
  5    lint found changes at or above --fail-on
  130  interrupted (Ctrl-C)`

// Main runs kubectl-atlas with args as the binary does and prints the error, if any, on stderr.
// Every byte goes through the redactor (see NewCmdAtlas). It returns the error for the exit code.
func Main(ctx context.Context, streams genericiooptions.IOStreams, args []string) error {
	streams = redactStreams(streams)
	// client-go logs (warnings, retries) through klog, which writes to the process's stderr
	// itself: route them through the redactor too (cluster.New silences them later)
	errOut := streams.ErrOut
	klog.SetLogger(funcr.New(func(prefix, args string) { fmt.Fprintln(errOut, prefix, args) }, funcr.Options{}))
	cmd := NewCmdAtlas(streams)
	cmd.SetArgs(args)
	// Ctrl-C and SIGTERM cancel the command's context, here and only here: every verb treats
	// a cancelled context as an interrupt (exit 130, exitcode.Code).
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(streams.ErrOut, "error:", err)
	}
	flushStreams(streams)
	return err
}

// NewCmdAtlas returns the root command. configFlags are the standard kubectl connection flags
// (--kubeconfig, --context, -n, ...), shared by every verb.
//
// The streams are wrapped in the redactor here, once, so no verb can print a credential by
// forgetting to redact (internal/redact); every verb's output is flushed when it returns. The
// tree gets a Redactor of its own (the one of streams already wrapped, by Main): the secrets its
// verbs register (redact.For) are masked in its output and no other tree's. Only the manifests
// a verb exists to emit bypass it, through redact.Payload.
func NewCmdAtlas(streams genericiooptions.IOStreams) *cobra.Command {
	streams = redactStreams(streams)
	configFlags := genericclioptions.NewConfigFlags(true)

	cmd := &cobra.Command{
		Use:   "kubectl-atlas",
		Short: "GitOps for database schemas with the Atlas Operator and Argo CD",
		Long:  rootLong,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl atlas",
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	configFlags.AddFlags(cmd.PersistentFlags())
	registerNamespaceCompletion(cmd, configFlags)
	cmd.SetFlagErrorFunc(flagError)

	cmd.AddCommand(
		NewCmdVersion(streams),
		NewCmdConfigMap(streams, configFlags),
		NewCmdLint(streams),
		NewCmdInit(streams, configFlags),
		NewCmdHealthcheck(streams, configFlags),
		NewCmdStatus(streams, configFlags),
		NewCmdWait(streams, configFlags),
		NewCmdDoctor(streams, configFlags),
		NewCmdHistory(streams, configFlags),
		NewCmdApply(streams, configFlags),
		NewCmdKustomizeFn(streams),
	)
	guardRun(cmd, streams, configFlags)
	return cmd
}
