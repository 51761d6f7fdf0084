package plugin

import (
	"encoding/base64"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// redactStreams wraps stdout and stderr in redacting Writers that share one Redactor: the one
// they already have when wrapped (Main, then NewCmdAtlas), a new one otherwise, so each command
// tree knows its own secrets and no other's.
func redactStreams(s genericiooptions.IOStreams) genericiooptions.IOStreams {
	r := redact.For(s.Out, s.ErrOut)
	if s.Out != nil {
		s.Out = redact.NewWriter(s.Out, r)
	}
	if s.ErrOut != nil {
		s.ErrOut = redact.NewWriter(s.ErrOut, r)
	}
	return s
}

func flushStreams(s genericiooptions.IOStreams) {
	for _, w := range []any{s.Out, s.ErrOut} {
		if rw, ok := w.(*redact.Writer); ok {
			_ = rw.Flush()
		}
	}
}

// guardRun makes every command of the tree register the secrets of kubectl's connection flags
// (--token, --password, a password in --server) before it runs, and flush the redacting streams
// when it returns, so a last line without newline is not held back.
func guardRun(cmd *cobra.Command, streams genericiooptions.IOStreams, flags *genericclioptions.ConfigFlags) {
	if run := cmd.RunE; run != nil {
		r := redact.For(streams.Out, streams.ErrOut)
		cmd.RunE = func(c *cobra.Command, args []string) error {
			defer flushStreams(streams)
			for _, s := range []*string{flags.BearerToken, flags.Password} {
				if s != nil {
					r.Add(*s)
				}
			}
			if flags.APIServer != nil {
				registerURLs(r, *flags.APIServer)
			}
			return run(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		guardRun(sub, streams, flags)
	}
}

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

// registerObjectSecrets tells r the secrets an object carries, so they are masked wherever they
// show up (an API server's validation error can quote a value): a Secret's data and stringData,
// and in any object the URLs and passwords under spec (url, devURL, credentials.password of the
// Atlas kinds, and the like).
func registerObjectSecrets(r *redact.Redactor, obj map[string]any) {
	if obj == nil {
		return
	}
	if obj["kind"] == "Secret" {
		vals := map[string]string{}
		if data, ok := obj["data"].(map[string]any); ok {
			for k, v := range data {
				if s, ok := v.(string); ok {
					if b, err := base64.StdEncoding.DecodeString(s); err == nil {
						vals[k] = string(b)
					}
					vals[k+"/base64"] = s
				}
			}
		}
		if data, ok := obj["stringData"].(map[string]any); ok {
			for k, v := range data {
				if s, ok := v.(string); ok {
					vals["s/"+k] = s
				}
			}
		}
		r.AddSecretData(vals)
		return
	}
	r.AddSpec(obj["spec"])
}

// registerURLs tells r the credentials of URLs given in flags.
func registerURLs(r *redact.Redactor, urls ...string) {
	for _, u := range urls {
		if u != "" {
			r.AddURL(u)
		}
	}
}
