package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

const configMapLong = `Pack a migration directory into one ConfigMap, the way the Atlas Operator reads it
(spec.dir.configMapRef of an AtlasMigration): flat keys named after the files, every *.sql file
plus atlas.sum.

The directory is validated before anything is printed: a missing atlas.sum, or a file added,
edited or removed since atlas.sum was written, is an error naming the file (as
'atlas migrate validate' reports it). --hash computes atlas.sum instead, and says so on stderr.

Directories of golang-migrate, goose, Flyway, dbmate and Liquibase are converted in memory to
atlas format with a fresh atlas.sum (--format, detected by default): the statements each tool
would run, without a transaction where the tool would use none (-- atlas:txmode none, with the
reason in the file). A converted name depends only on that file's version (1 -> a1, 10 -> b10,
Flyway 1.1 -> a1a1), so names never change as the directory grows and atlas applies the files in
the tool's order. Byte order marks removed and references to the old tool's tracking table are
reported on stderr with file:line.

A ConfigMap holds at most 1 MiB: past that the command fails and lists the largest files. Past
256 KiB client-side apply and Argo CD's default sync fail, so the ConfigMap carries
argocd.argoproj.io/sync-options: ServerSideApply=true (stderr says why).

For such directories the command reads and extends kubectl-atlas.ledger in --dir, the rerun
ledger: every earlier version of those files stays in the ConfigMap as a placeholder (no
statements) and a change marker sorts last, so the Atlas Operator applies every change and
stays Ready (docs/init.md). A change the ledger lacks is appended to it (stderr says so; commit
it with the migrations); --write-ledger=false only reads it and fails instead. Beside it,
--dir's .gitattributes gets "kubectl-atlas.ledger merge=union" (stderr says so; commit it), so
Git merges two branches' ledgers as the union of their lines; after a merge, run configmap on
the merged tree and commit what it records.

Statements that drop a schema, table or column are reported on stderr as warnings, as 'init'
reports them (a text check); --lint-dev-url runs atlas's analyzers on a dev database instead, as
'kubectl atlas lint', and reports every finding. Nothing is printed on stdout unless the whole directory is valid.

What the AtlasMigration that reads the ConfigMap needs is said on stderr ('init' and the
kustomize generator write it in for you):
  - spec.execOrder: non-linear when the directory has Flyway repeatables (R__) or Liquibase
    runOnChange changesets: they run again when edited, as a new version named after their
    checksum, which sorts below versions already applied (without it atlas stops with
    "migration file ... was added out of order");
  - spec.baseline: V when the database was already migrated by the old tool: --baseline takes
    the version as that tool names it (42, Flyway 1.1) and prints the converted version to set.

Exit codes: 0 success, 1 invalid directory or other error, 2 usage error.`

const configMapExample = `  # Pack ./migrations into a ConfigMap and apply it
  kubectl atlas configmap --dir ./migrations --name myapp-migrations | kubectl apply -f -

  # A Flyway directory, converted, as JSON, in namespace prod
  kubectl atlas configmap --dir ./db/flyway --format flyway --name myapp-migrations -n prod -o json

  # Recompute atlas.sum in the output (the files on disk are not touched)
  kubectl atlas configmap --dir ./migrations --name myapp-migrations --hash

  # A database golang-migrate already took to version 42: stderr gives spec.baseline to set
  kubectl atlas configmap --dir ./migrations --format golang-migrate --name myapp-migrations --baseline 42`

// ConfigMapOptions packs one migration directory into a ConfigMap.
type ConfigMapOptions struct {
	Dir      string
	Name     string
	Format   string
	Hash     bool
	Output   string
	Baseline string
	// LintDevURL runs atlas's analyzers on this dev database instead of the offline check.
	LintDevURL string
	// WriteLedger records new versions in the directory's rerun ledger (recordLedger).
	WriteLedger bool

	ctx         context.Context
	namespace   string
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// NewCmdConfigMap returns the configmap command.
func NewCmdConfigMap(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ConfigMapOptions{IOStreams: streams, configFlags: configFlags}
	cmd := &cobra.Command{
		Use:     "configmap --dir DIR --name NAME [-n NAMESPACE] [-o yaml|json]",
		Aliases: []string{"cm"},
		Short:   "Pack a migration directory into a validated ConfigMap",
		Long:    configMapLong,
		Example: configMapExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "Migration directory (required)")
	f.StringVar(&o.Name, "name", "", "Name of the ConfigMap (required)")
	f.StringVar(&o.Format, "format", "", "Directory format: "+strings.Join(migdir.Formats, ", ")+" (default: detected)")
	f.BoolVar(&o.Hash, "hash", false, "Compute atlas.sum in the output instead of validating the one on disk")
	f.StringVarP(&o.Output, "output", "o", "yaml", "Output format: yaml or json")
	f.StringVar(&o.Baseline, "baseline", "", "Version the database is already at, as the source tool names it (e.g. 42, Flyway 1.1): stderr gives the converted version for the AtlasMigration's spec.baseline")
	f.StringVar(&o.LintDevURL, "lint-dev-url", "", lintDevURLUsage)
	f.BoolVar(&o.WriteLedger, "write-ledger", true, writeLedgerUsage)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(migdir.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// Complete takes the namespace from -n only when given: the ConfigMap then lands wherever the
// user applies it, as with `kubectl create configmap --dry-run=client -o yaml`.
func (o *ConfigMapOptions) Complete(cmd *cobra.Command) error {
	o.ctx = cmd.Context()
	if o.LintDevURL != "" {
		redact.For(o.ErrOut).AddURL(o.LintDevURL)
	}
	if fl := cmd.Flags().Lookup("namespace"); fl != nil && fl.Changed && o.configFlags.Namespace != nil {
		o.namespace = *o.configFlags.Namespace
	}
	return nil
}

// Validate checks the flags.
func (o *ConfigMapOptions) Validate() error {
	if o.Dir == "" {
		return exitcode.UsageErrorf("--dir is required: the migration directory to pack")
	}
	if o.Name == "" {
		return exitcode.UsageErrorf("--name is required: the name of the ConfigMap")
	}
	if err := validateFormat(o.Format); err != nil {
		return err
	}
	switch o.Output {
	case "yaml", "json":
	default:
		return exitcode.UsageErrorf("--output must be yaml or json, not %q", o.Output)
	}
	if err := validateObjectName("--name", o.Name); err != nil {
		return err
	}
	return nil
}

// Run reads, validates and prints.
func (o *ConfigMapOptions) Run() error {
	// A short-lived process that reads at most a few MiB: garbage collection would only cost
	// time (the verb is benchmarked against kubectl). A memory limit still bounds the heap if
	// someone points --dir at something huge.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// Nothing but the error is printed when the directory cannot be packed.
	req := generate.Request{Options: scaffold.Options{Name: o.Name, Namespace: o.namespace},
		Dir: o.Dir, Read: migdir.Options{Format: o.Format, Hash: o.Hash}, Baseline: o.Baseline, ConfigMapOnly: true}
	if o.LintDevURL != "" {
		req.Lint = generate.LintWith(o.ctx, o.LintDevURL)
	}
	res, err := generate.Generate(req)
	if err != nil {
		return withFlagFix(err)
	}
	cm := res.Objects[0].Unstructured
	var out []byte
	if o.Output == "json" {
		out, err = json.MarshalIndent(cm.Object, "", "    ")
		out = append(out, '\n')
	} else {
		out, err = scaffold.YAML(cm)
	}
	if err != nil {
		return err
	}
	for _, d := range res.Diagnostics {
		fmt.Fprintln(o.ErrOut, cliTerms.Phrase(d))
	}
	if err := recordLedger(o.ErrOut, o.Dir, res.Dir, o.WriteLedger); err != nil {
		return err
	}
	_, err = redact.Payload(o.Out).Write(out) // the manifest, byte for byte
	return err
}
