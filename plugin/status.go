package plugin

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

const statusLong = `Show what every AtlasSchema and AtlasMigration is doing, with the health verdict Argo CD
would give using the project's health check. Every other kind of db.atlasgo.io the cluster
serves (AtlasDriftCheck and AtlasSecurityScan in operator v0.8, kinds to come) is listed too,
judged by the generic rule on the conditions every kind has (Ready, Reconciling, Stalled,
observedGeneration). The kinds come from the API server's discovery, cached as kubectl caches
it (~/.kube/cache/discovery, 6 hours); naming a kind the cache does not know refreshes it.

The table shows the health (Healthy, Progressing, Degraded, Suspended, ...), the Ready
condition's reason, the applied version (AtlasMigration) or the time of the last apply
(AtlasSchema), the age and the first line of the message; -o wide adds the full message, the
observed and current generation, the failure count and the approval or plan URL;
--no-headers leaves the header out. -o json|yaml|name|jsonpath=...|go-template=... go through
kubectl's printers: a List whose items carry each resource's apiVersion, kind and metadata and
the verdict in status (status.health, status.message, status.reason, ...; see docs/cluster.md),
e.g. -o jsonpath='{.items[*].status.health}'. Credentials in messages are redacted.

--dir DIR compares a local migration directory with each AtlasMigration's lastAppliedVersion
and lists the versions still pending (newer than the applied one). A directory that runs
non-linear (Flyway repeatables, Liquibase runOnChange) can have pending files below that
version too (an edited repeatable, a versioned file added later): the list shows the change
marker that comes with them and leaves them out, and stderr says so; 'atlas migrate status' on
the database lists them.

--watch prints the table, then a line for every change as it happens (watch-based) until
Ctrl-C; with -o json|yaml|... it prints the List, then a List of the one changed item per change.

Exit codes:
  0    listed (also when nothing was found)
  1    error (API server unreachable, RBAC denial, CRDs not installed, unreadable --dir)
  2    usage error
  130  interrupted (--watch ended with Ctrl-C)`

const statusExample = `  # Every Atlas resource in the current namespace, and in all namespaces
  kubectl atlas status
  kubectl atlas status -A

  # One resource, with the full message
  kubectl atlas status myapp -o wide

  # Which migrations of the local directory are not applied yet
  kubectl atlas status atlasmigration/myapp --dir migrations/

  # Follow changes
  kubectl atlas status -l app=myapp --watch

  # The health of each resource, for a script
  kubectl atlas status -o jsonpath='{range .items[*]}{.metadata.name}={.status.health}{"\n"}{end}'`

// StatusOptions implements `kubectl atlas status`.
type StatusOptions struct {
	configFlags *genericclioptions.ConfigFlags

	AllNamespaces bool
	Selector      string
	Watch         bool
	Dir           string
	NoHeaders     bool
	PrintFlags    *genericclioptions.PrintFlags

	names    []string
	client   *cluster.Client
	kinds    groupKinds
	versions []string
	now      func() time.Time
	printer  *recordPrinter

	genericiooptions.IOStreams
}

// NewCmdStatus returns the status command.
func NewCmdStatus(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &StatusOptions{configFlags: configFlags, IOStreams: streams, now: time.Now, PrintFlags: genericclioptions.NewPrintFlags("")}
	cmd := &cobra.Command{
		Use:     "status [NAME | KIND/NAME ...] [-n NS | -A] [-l SELECTOR] [-o wide|json|yaml|name|jsonpath=...] [--watch] [--dir DIR]",
		Short:   "Show the health of AtlasSchema, AtlasMigration and every other Atlas resource",
		Long:    statusLong,
		Example: statusExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List resources in all namespaces")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector")
	o.PrintFlags.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "Output format: '' (table), wide, " + strings.Join(o.PrintFlags.AllowedFormats(), ", ")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "Table output: leave the header line out")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "After listing, print every change as it happens")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "Local migration directory: list its versions not yet applied")
	cmd.ValidArgsFunction = completeStatusArgs(configFlags)
	return cmd
}

// Complete builds the printer, reads --dir and builds the client.
func (o *StatusOptions) Complete(args []string) error {
	o.names = args
	p, err := newRecordPrinter(o.PrintFlags, o.NoHeaders)
	if err != nil {
		return err
	}
	o.printer = p
	if o.Dir != "" {
		d, err := migdir.Read(o.Dir, migdir.Options{})
		if err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
		o.versions = d.Versions()
		if d.HasRepeatables() {
			fmt.Fprintf(o.ErrOut, "note: --dir: %s runs non-linear (%s): PENDING lists only the files after lastAppliedVersion; files below it may be pending too ('atlas migrate status' on the database lists them)\n", d.Path, d.NonLinearReason())
		}
		if err := d.CheckLedger(); err != nil {
			// status only reads: the versions are the ones init or configmap would record.
			fmt.Fprintf(o.ErrOut, "note: --dir: %v\n", err)
		}
	}
	c, err := cluster.New(o.configFlags)
	if err != nil {
		return err
	}
	o.client = c
	return nil
}

// Validate checks flags and arguments.
func (o *StatusOptions) Validate() error {
	if o.NoHeaders && !o.printer.table() {
		return exitcode.UsageErrorf("--no-headers applies to the table (-o wide or no -o)")
	}
	if len(o.names) > 0 && o.AllNamespaces {
		return exitcode.UsageErrorf("names are looked up in one namespace: use -n NAMESPACE, not -A")
	}
	if len(o.names) > 0 && o.Selector != "" {
		return exitcode.UsageErrorf("name resources or select them with -l, not both")
	}
	if err := validateNames(o.names); err != nil {
		return err
	}
	var err error
	o.kinds, err = discoverKinds(o.client, typedKinds(o.names), o.namespace())
	return err
}

// validateNames checks NAME and KIND/NAME arguments (a usage error names the bad one); the
// kinds are checked against what the cluster serves (discoverKinds).
func validateNames(names []string) error {
	for _, n := range names {
		if _, name, ok := strings.Cut(n, "/"); ok && name == "" {
			return exitcode.UsageErrorf("%s: missing name after the slash", n)
		}
	}
	return nil
}

// typedKinds are the kinds of the KIND/NAME arguments.
func typedKinds(names []string) []string {
	var typed []string
	for _, n := range names {
		if kind, _, ok := strings.Cut(n, "/"); ok {
			typed = append(typed, kind)
		}
	}
	return typed
}

func (o *StatusOptions) namespace() string {
	if o.AllNamespaces {
		return ""
	}
	return o.client.Namespace
}

// selectors lists what to read: the named resources, or every kind of the group.
func (o *StatusOptions) selectors() []cluster.Selector {
	return atlasSelectors(o.kinds, o.namespace(), o.names, o.Selector)
}

// atlasSelectors lists what status and doctor read in namespace ns ("" for all): the named
// resources (NAME, or KIND/NAME), or every kind of the group matching the label selector.
func atlasSelectors(kinds groupKinds, ns string, names []string, labelSelector string) []cluster.Selector {
	if len(names) == 0 {
		var sels []cluster.Selector
		for _, k := range kinds.all {
			sels = append(sels, cluster.Selector{GVR: k.GVR, Namespace: ns, LabelSelector: labelSelector})
		}
		return sels
	}
	var sels []cluster.Selector
	for _, n := range names {
		kind, name, ok := strings.Cut(n, "/")
		if !ok {
			// A bare name may be any kind.
			for _, k := range kinds.all {
				sels = append(sels, cluster.Selector{GVR: k.GVR, Namespace: ns, Name: n})
			}
			continue
		}
		k, _ := kinds.lookup(kind)
		sels = append(sels, cluster.Selector{GVR: k.GVR, Namespace: ns, Name: name})
	}
	return sels
}

// Run lists (and with --watch follows) the resources.
func (o *StatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Watch {
		return o.watch(ctx)
	}
	recs, err := o.list(ctx)
	if err != nil {
		return err
	}
	if err := o.checkNamed(recs); err != nil {
		return err
	}
	if len(recs) == 0 && o.printer.table() {
		where := fmt.Sprintf("in namespace %s", o.namespace())
		if o.AllNamespaces {
			where = "in any namespace"
		}
		if o.Selector != "" {
			where += " matching " + o.Selector
		}
		_, err := fmt.Fprintf(o.ErrOut, "No Atlas resources (%s) found %s.\n", atlas.Names(o.kinds.all), where)
		return err
	}
	if o.Dir != "" && o.printer.table() {
		if err := o.checkDirHasMigrations(recs); err != nil {
			return err
		}
	}
	return o.printer.list(o.Out, o.columns(), recs)
}

// list reads every selector (concurrently) and keeps only the record of each object: pages are
// judged as they arrive and dropped, so memory holds one page per selector, not every object.
func (o *StatusOptions) list(ctx context.Context) ([]status.Record, error) {
	sels := o.selectors()
	results := make([][]status.Record, len(sels))
	errs := make([]error, len(sels))
	var wg sync.WaitGroup
	for i, sel := range sels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = o.client.ListPages(ctx, sel, func() { results[i] = nil }, func(page []unstructured.Unstructured) error {
				results[i] = append(results[i], o.judge(page)...)
				return nil
			})
		}()
	}
	wg.Wait()
	var out []status.Record
	for i, err := range errs {
		if err != nil {
			return nil, cluster.Explain(err, "list", sels[i].GVR, sels[i].Namespace)
		}
		out = append(out, results[i]...)
	}
	status.Sort(out)
	return out, nil
}

// checkNamed fails for a name that matched nothing.
func (o *StatusOptions) checkNamed(recs []status.Record) error {
	found := make([][2]string, len(recs))
	for i, r := range recs {
		found[i] = [2]string{r.Kind, r.Metadata.Name}
	}
	if missing := missingNames(o.kinds, o.names, found); len(missing) > 0 {
		return exitcode.Newf(exitcode.Failure, "not found in namespace %s: %s (no %s of that name; see `kubectl atlas status` for what exists)",
			o.namespace(), strings.Join(missing, ", "), atlas.Names(o.kinds.all))
	}
	return nil
}

// missingNames are the NAME and KIND/NAME arguments that match none of found (kind, name).
func missingNames(kinds groupKinds, names []string, found [][2]string) []string {
	has := map[string]bool{}
	for _, f := range found {
		has[f[1]] = true
		has[strings.ToLower(f[0])+"/"+f[1]] = true
	}
	var missing []string
	for _, n := range names {
		key := n
		if kind, name, ok := strings.Cut(n, "/"); ok {
			k, _ := kinds.lookup(kind)
			key = strings.ToLower(k.Kind) + "/" + name
		}
		if !has[key] {
			missing = append(missing, n)
		}
	}
	return missing
}

func (o *StatusOptions) checkDirHasMigrations(recs []status.Record) error {
	for _, r := range recs {
		if r.Kind == atlas.KindAtlasMigration {
			return nil
		}
	}
	return exitcode.Newf(exitcode.Failure, "--dir compares a directory with AtlasMigration resources, and none was found")
}

// judge makes the records of objs, in parallel: the Lua VM is the expensive part.
func (o *StatusOptions) judge(objs []unstructured.Unstructured) []status.Record {
	recs := make([]status.Record, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(objs); i = int(next.Add(1)) - 1 {
				recs[i] = o.record(&objs[i])
			}
		}()
	}
	wg.Wait()
	return recs
}

func (o *StatusOptions) record(obj *unstructured.Unstructured) status.Record {
	r := status.Summarize(obj)
	if o.Dir != "" && r.Kind == atlas.KindAtlasMigration {
		r.Status.Pending = atlas.PendingVersions(o.versions, r.Status.LastAppliedVersion)
	}
	return r
}
