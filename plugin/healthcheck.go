package plugin

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// NewCmdHealthcheck returns `healthcheck` with its verbs generate and test.
func NewCmdHealthcheck(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Argo CD health checks for Atlas resources: generate them, test them",
		Long: `Argo CD decides when a sync wave is done from each resource's health. kubectl-atlas ships Lua
health checks for AtlasSchema and AtlasMigration that run in Argo CD's default Lua VM and replace
Argo CD's built-in ones (which read normal states such as GettingDevDB and ApprovalPending as
Degraded, trust a stale Ready=True and hide the operator's error). The same scripts are what
'kubectl atlas status', 'wait' and 'apply' evaluate.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdHealthcheckGenerate(streams), newCmdHealthcheckTest(streams, configFlags))
	return cmd
}

// HealthcheckGenerateOptions prints the health checks in one of Render's formats.
type HealthcheckGenerateOptions struct {
	Format   string
	Kind     string
	OpenLibs bool
	Wildcard bool
	genericiooptions.IOStreams
}

func newCmdHealthcheckGenerate(streams genericiooptions.IOStreams) *cobra.Command {
	o := &HealthcheckGenerateOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "generate [--format argocd-cm|legacy|helm|kustomize|lua] [--kind KIND] [--wildcard]",
		Short: "Print the Atlas health checks for Argo CD (argocd-cm, Helm values, kustomize patch or bare Lua)",
		Long: `Print the Atlas health checks for Argo CD. The output is deterministic: regenerating gives no diff.

Formats:
  argocd-cm  (default) an argocd-cm ConfigMap with the split keys
             resource.customizations.health.db.atlasgo.io_AtlasSchema and ..._AtlasMigration (Argo CD v2.1+)
  legacy     argocd-cm with the nested resource.customizations blob (older Argo CD)
  helm       values for the argo-cd Helm chart (configs.cm)
  kustomize  a patch for argocd-cm, to list under patches: in the kustomization that installs Argo CD
  lua        the bare script of one kind (needs --kind)

Kinds: AtlasSchema and AtlasMigration have scripts of their own. Every other kind of
db.atlasgo.io (AtlasDriftCheck and AtlasSecurityScan in operator v0.8, kinds to come) gets the
generic script, which reads only the conditions every kind has (Ready, Reconciling, Stalled) and
observedGeneration: --kind AtlasDriftCheck prints it under that kind's key, and --wildcard adds
it for all of them at once under db.atlasgo.io/* (Argo CD matches the key as a glob). ConfigMap
keys cannot hold a '*', so the wildcard goes in the nested resource.customizations key, which
Argo CD reads beside the split keys; it replaces a resource.customizations key your argocd-cm
already has (merge the two by hand then). --kind '*' prints the wildcard entry alone.

Objects being deleted: the scripts answer Progressing "Pending deletion; blocked by finalizers:
..." (Argo CD v3.5.1 answers Progressing "Pending deletion" itself before any script runs; later
Argo CD runs the script).

Every format but lua also sets useOpenLibs for each script: it gives these scripts (and no
other script) gopher-lua's string library, which Argo CD's default VM lacks, so they mask the
credentials the operator copies into its messages (e.g. a whole database URL it cannot parse)
before Argo CD shows them in the Application. They call nothing else of the opened libraries.
--open-libs=false leaves it out: the verdicts are the same, but messages are shown unredacted.

Exit codes: 0 success, 2 usage error.`,
		Example: `  # Add the checks to a running Argo CD (kubectl patch merges the data keys)
  kubectl atlas healthcheck generate --format kustomize > atlas-health.yaml
  kubectl -n argocd patch configmap argocd-cm --patch-file atlas-health.yaml

  # Helm
  kubectl atlas healthcheck generate --format helm > atlas-health-values.yaml
  helm upgrade argocd argo/argo-cd -n argocd -f values.yaml -f atlas-health-values.yaml

  # Also every other kind of the group (AtlasDriftCheck, AtlasSecurityScan, ...)
  kubectl atlas healthcheck generate --wildcard

  # One script, e.g. to review it
  kubectl atlas healthcheck generate --format lua --kind AtlasMigration
  kubectl atlas healthcheck generate --format lua --kind AtlasDriftCheck   # the generic rule`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", healthcheck.FormatArgoCDConfigMap, "Output format: "+strings.Join(healthcheck.Formats, ", "))
	cmd.Flags().StringVar(&o.Kind, "kind", "", "Only this kind of db.atlasgo.io (AtlasSchema, AtlasMigration, any other kind name for the generic script, '*' for the wildcard entry); required with --format lua")
	cmd.Flags().BoolVar(&o.OpenLibs, "open-libs", true, "Set useOpenLibs for each script, so the scripts can mask credentials in messages (false: Argo CD's default VM, messages unredacted)")
	cmd.Flags().BoolVar(&o.Wildcard, "wildcard", false, "Add the generic script for every other kind of db.atlasgo.io under the key db.atlasgo.io/* (in the nested resource.customizations key)")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

// Validate checks --format and --kind (a Lua script is one kind's).
func (o *HealthcheckGenerateOptions) Validate() error {
	if !slices.Contains(healthcheck.Formats, o.Format) {
		return exitcode.UsageErrorf("--format must be one of %s, not %q", strings.Join(healthcheck.Formats, ", "), o.Format)
	}
	if o.Format == healthcheck.FormatLua && o.Kind == "" {
		return exitcode.UsageErrorf("--format lua prints one script: pass --kind AtlasSchema, --kind AtlasMigration or another kind of the group")
	}
	if o.Wildcard && o.Kind != "" {
		return exitcode.UsageErrorf("--wildcard adds every other kind, --kind picks one: pass one of them (--kind '*' is the wildcard entry alone)")
	}
	return nil
}

// Run renders and prints.
func (o *HealthcheckGenerateOptions) Run() error {
	b, err := healthcheck.Render(healthcheck.GenerateOptions{Format: o.Format, Kind: o.Kind, NoOpenLibs: !o.OpenLibs, Wildcard: o.Wildcard})
	if err != nil {
		return exitcode.UsageErrorf("%v", err)
	}
	_, err = redact.Payload(o.Out).Write(b) // the scripts, byte for byte
	return err
}

// HealthcheckTestOptions runs health checks as Argo CD would on test files, object files or live
// objects.
type HealthcheckTestOptions struct {
	Filenames     []string
	ArgoCDCM      string
	AllNamespaces bool
	Args          []string

	configFlags *genericclioptions.ConfigFlags
	runner      *healthcheck.Runner
	genericiooptions.IOStreams
}

func newCmdHealthcheckTest(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &HealthcheckTestOptions{IOStreams: streams, configFlags: configFlags}
	cmd := &cobra.Command{
		Use:   "test [-f FILE|DIR]... [TYPE[/NAME] ...] [--argocd-cm FILE]",
		Short: "Run health checks exactly as Argo CD would: on health_test.yaml cases, object files or live objects",
		Long: `Run health checks exactly as Argo CD's Lua VM would (same libraries, same conversion of the
object, same 1 s limit, same result rules, same "Pending deletion" pre-check of v3.5.1 for
objects; health_test.yaml cases run the script on deleting objects too, as Argo CD's own runner).

Inputs:
  -f health_test.yaml   Argo CD's test format: tests: [{inputPath, healthStatus: {status, message}}];
                        a health.lua beside it (Argo CD's resource_customizations layout) is the
                        script under test, otherwise the script is picked by group/kind
  -f DIR                every health_test.yaml below DIR
  -f objects.yaml       Kubernetes objects (several documents and Lists fine): prints their health
  TYPE[/NAME] ...       live objects from the cluster, as in kubectl get (-n, -A); without -f and
                        without arguments: every resource of db.atlasgo.io in the namespace

Scripts: kubectl-atlas's own, or with --argocd-cm FILE those of your argocd-cm (a ConfigMap, a
kustomize patch of it or argo-cd Helm values; split keys or the resource.customizations blob, any
group/kind, wildcards, useOpenLibs honoured), so every custom health check can be tested in CI.

A script that fails (runtime error, the 1 s limit, a forbidden library) gives Unknown with the
error, as in Argo CD. Messages are printed with credentials redacted (docs/redaction.md); test
cases compare the unredacted text, as Argo CD does.

Exit codes: 0 all passed, 3 a test case failed or a script failed, 1 bad input or API error,
2 usage error.`,
		Example: `  # The project's fixtures, or your own in Argo CD's layout
  kubectl atlas healthcheck test -f healthcheck/resource_customizations

  # Your argocd-cm's scripts against your test cases, in CI
  kubectl atlas healthcheck test --argocd-cm argocd-cm.yaml -f health/

  # What Argo CD would say about the Atlas resources in the cluster
  kubectl atlas healthcheck test -A
  kubectl atlas healthcheck test -n shop atlasmigration/app-db`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "health_test.yaml, object file or directory (repeatable)")
	cmd.Flags().StringVar(&o.ArgoCDCM, "argocd-cm", "", "Take the scripts from this argocd-cm (ConfigMap, kustomize patch or Helm values) instead of kubectl-atlas's")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Live objects of every namespace")
	cmd.ValidArgsFunction = completeHealthcheckArgs(configFlags)
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

// Complete picks the evaluator.
func (o *HealthcheckTestOptions) Complete() error {
	e := healthcheck.Default()
	if o.ArgoCDCM != "" {
		b, err := os.ReadFile(o.ArgoCDCM)
		if err != nil {
			return exitcode.New(exitcode.Failure, err)
		}
		ov, err := healthcheck.ParseArgoCDConfigMap(b)
		if err != nil {
			return exitcode.Newf(exitcode.Failure, "--argocd-cm %s: %v", o.ArgoCDCM, err)
		}
		n := 0
		for _, v := range ov {
			if v.HealthLua != "" {
				n++
			}
		}
		if n == 0 {
			return exitcode.Newf(exitcode.Failure, "--argocd-cm %s holds no health check: want keys resource.customizations.health.<group>_<Kind> or a resource.customizations blob with health.lua", o.ArgoCDCM)
		}
		if e, err = healthcheck.NewEvaluator(ov); err != nil {
			return exitcode.Newf(exitcode.Failure, "--argocd-cm %s: %v", o.ArgoCDCM, err)
		}
	}
	o.runner = &healthcheck.Runner{Evaluator: e}
	return nil
}

// Run evaluates every input and prints one line per case; failures show want and got.
func (o *HealthcheckTestOptions) Run() error {
	var cases []healthcheck.Case
	for _, f := range o.Filenames {
		cs, err := o.runFile(f)
		if err != nil {
			return exitcode.New(exitcode.Failure, err)
		}
		cases = append(cases, cs...)
	}
	if len(o.Args) > 0 || len(o.Filenames) == 0 {
		cs, err := o.runLive()
		if err != nil {
			return err
		}
		cases = append(cases, cs...)
	}
	failed := 0
	for _, c := range cases {
		if c.Failed() {
			failed++
		}
		printCase(o.Out, c)
	}
	if len(cases) == 0 {
		fmt.Fprintln(o.ErrOut, "No objects found.")
		return nil
	}
	fmt.Fprintf(o.Out, "%d checked, %d passed, %d failed\n", len(cases), len(cases)-failed, failed)
	if failed > 0 {
		return exitcode.Newf(exitcode.Degraded, "%d of %d health checks failed", failed, len(cases))
	}
	return nil
}

func (o *HealthcheckTestOptions) runFile(path string) ([]healthcheck.Case, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		files, err := healthcheck.FindTestFiles(path)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no %s below this directory", path, healthcheck.TestFileName)
		}
		var out []healthcheck.Case
		for _, f := range files {
			cs, err := o.runner.TestFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if healthcheck.IsTestFile(b) {
		return o.runner.TestFile(path)
	}
	if objs, err := healthcheck.DecodeObjects(b); err == nil {
		r := redact.For(o.ErrOut)
		for _, obj := range objs {
			registerObjectSecrets(r, obj.Object)
		}
	}
	return o.runner.ObjectFile(path)
}

// groupResources is every resource of the group the cluster serves (discovery, kubectl's cache),
// as a comma list for the resource builder; the two known kinds when discovery cannot tell.
func (o *HealthcheckTestOptions) groupResources() string {
	kinds := atlas.Kinds
	if c, err := cluster.New(o.configFlags); err == nil {
		if served, err := c.GroupKinds(atlas.Group, false); err == nil && len(served) > 0 {
			kinds = served
		}
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.GVR.Resource + "." + atlas.Group
	}
	return strings.Join(names, ",")
}

// runLive reads objects with kubectl's resource builder (resource aliases, TYPE/NAME, -n, -A).
func (o *HealthcheckTestOptions) runLive() ([]healthcheck.Case, error) {
	ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, exitcode.New(exitcode.Failure, err)
	}
	args := o.Args
	if len(args) == 0 {
		args = []string{o.groupResources()}
	}
	r := resource.NewBuilder(o.configFlags).
		Unstructured().
		NamespaceParam(ns).DefaultNamespace().AllNamespaces(o.AllNamespaces).
		ResourceTypeOrNameArgs(true, args...).
		Latest().Flatten().
		Do()
	if err := r.Err(); err != nil {
		return nil, exitcode.UsageErrorf("%v", err)
	}
	infos, err := r.Infos()
	if err != nil {
		return nil, exitcode.Newf(exitcode.Failure, "reading objects from the cluster: %v", err)
	}
	out := make([]healthcheck.Case, 0, len(infos))
	red := redact.For(o.ErrOut)
	for _, info := range infos {
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		registerObjectSecrets(red, u.Object)
		out = append(out, o.runner.Object("cluster", u))
	}
	return out, nil
}

// printCase prints one case; messages are redacted (never print credentials) and shown
// verbatim-quoted where want and got are compared.
func printCase(w io.Writer, c healthcheck.Case) {
	verdict := "PASS"
	switch {
	case c.Failed():
		verdict = "FAIL"
	case c.Want == nil && c.Script == "":
		verdict = "SKIP"
	case c.Want == nil:
		verdict = "OK"
	}
	where := c.Source
	if c.Input != "" {
		where += " (" + c.Input + ")"
	}
	fmt.Fprintf(w, "%-4s  %s %s  %s\n", verdict, c.Kind, c.Name, where)
	switch {
	case c.Script == "":
		fmt.Fprintf(w, "      no health check for this group/kind (Argo CD would fall back to its built-in one, if any)\n")
	case verdict == "FAIL" && c.Want != nil:
		fmt.Fprintf(w, "      want: %s %q\n", c.Want.Status, redact.String(c.Want.Message))
		fmt.Fprintf(w, "      got:  %s %q\n", c.Got.Status, redact.String(c.Got.Message))
	default:
		fmt.Fprintf(w, "      %s", statusWord(c.Got.Status))
		if c.Got.Message != "" {
			fmt.Fprintf(w, ": %s", strings.ReplaceAll(strings.TrimRight(redact.String(c.Got.Message), " \n"), "\n", "\n        "))
		}
		fmt.Fprintln(w)
	}
	if c.Err != nil && c.Script != "" {
		fmt.Fprintf(w, "      script %s failed (Argo CD shows Unknown with this error)\n", c.Script)
	}
}

func statusWord(s healthcheck.HealthStatus) string {
	if s == "" {
		return "(no health status: the script returned nil or an empty table)"
	}
	return string(s)
}
