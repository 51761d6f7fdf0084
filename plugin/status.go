package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

const statusLong = `Show what every AtlasSchema and AtlasMigration is doing, with the health verdict Argo CD
would give using the project's health check.

The table shows the health (Healthy, Progressing, Degraded, Suspended, ...), the Ready
condition's reason, the applied version (AtlasMigration) or the time of the last apply
(AtlasSchema), the age and the first line of the message; -o wide adds the full message, the
observed and current generation, the failure count and the approval or plan URL. -o json|yaml
print structured records. Credentials in messages are redacted.

--dir DIR compares a local migration directory with each AtlasMigration's lastAppliedVersion
and lists the versions still pending (newer than the applied one).

--watch prints the table, then a line for every change as it happens (watch-based) until
Ctrl-C.

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
  kubectl atlas status -l app=myapp --watch`

// StatusOptions implements `kubectl atlas status`.
type StatusOptions struct {
	configFlags *genericclioptions.ConfigFlags

	AllNamespaces bool
	Selector      string
	Output        string
	Watch         bool
	Dir           string

	names    []string
	client   *cluster.Client
	versions []string
	now      func() time.Time

	genericiooptions.IOStreams
}

// NewCmdStatus returns the status command.
func NewCmdStatus(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &StatusOptions{configFlags: configFlags, IOStreams: streams, now: time.Now}
	cmd := &cobra.Command{
		Use:     "status [NAME | KIND/NAME ...] [-n NS | -A] [-l SELECTOR] [-o wide|json|yaml] [--watch] [--dir DIR]",
		Short:   "Show the health of AtlasSchema and AtlasMigration resources",
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: '' (table), wide, json or yaml")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "After listing, print every change as it happens")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "Local migration directory: list its versions not yet applied")
	cmd.ValidArgsFunction = completeStatusArgs(configFlags)
	return cmd
}

// Complete reads --dir and builds the client.
func (o *StatusOptions) Complete(args []string) error {
	o.names = args
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Dir != "" {
		d, err := migdir.Read(o.Dir, migdir.Options{})
		if err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
		o.versions = d.Versions()
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
	switch o.Output {
	case "", "wide", "json", "yaml":
	default:
		return exitcode.UsageErrorf("--output must be wide, json or yaml, not %q", o.Output)
	}
	if len(o.names) > 0 && o.AllNamespaces {
		return exitcode.UsageErrorf("names are looked up in one namespace: use -n NAMESPACE, not -A")
	}
	if len(o.names) > 0 && o.Selector != "" {
		return exitcode.UsageErrorf("name resources or select them with -l, not both")
	}
	for _, n := range o.names {
		if kind, name, ok := strings.Cut(n, "/"); ok {
			if _, err := atlas.ParseKind(kind); err != nil {
				return exitcode.UsageErrorf("%s: %v", n, err)
			}
			if name == "" {
				return exitcode.UsageErrorf("%s: missing name after the slash", n)
			}
		}
	}
	return nil
}

func (o *StatusOptions) namespace() string {
	if o.AllNamespaces {
		return ""
	}
	return o.client.Namespace
}

// selectors lists what to read: the named resources, or both kinds.
func (o *StatusOptions) selectors() []cluster.Selector {
	ns := o.namespace()
	if len(o.names) == 0 {
		var sels []cluster.Selector
		for _, k := range atlas.Kinds {
			sels = append(sels, cluster.Selector{GVR: k.GVR, Namespace: ns, LabelSelector: o.Selector})
		}
		return sels
	}
	var sels []cluster.Selector
	for _, n := range o.names {
		kind, name, ok := strings.Cut(n, "/")
		if !ok {
			// A bare name may be either kind.
			for _, k := range atlas.Kinds {
				sels = append(sels, cluster.Selector{GVR: k.GVR, Namespace: ns, Name: n})
			}
			continue
		}
		k, _ := atlas.ParseKind(kind)
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
	if len(recs) == 0 && o.Output != "json" && o.Output != "yaml" {
		where := fmt.Sprintf("in namespace %s", o.namespace())
		if o.AllNamespaces {
			where = "in any namespace"
		}
		if o.Selector != "" {
			where += " matching " + o.Selector
		}
		_, err := fmt.Fprintf(o.ErrOut, "No AtlasSchema or AtlasMigration resources found %s.\n", where)
		return err
	}
	if o.Dir != "" && o.Output != "json" && o.Output != "yaml" {
		if err := o.checkDirHasMigrations(recs); err != nil {
			return err
		}
	}
	return o.print(recs)
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
	sortRecords(out)
	return out, nil
}

// checkNamed fails for a name that matched nothing.
func (o *StatusOptions) checkNamed(recs []status.Record) error {
	found := map[string]bool{}
	for _, r := range recs {
		found[r.Name] = true
		found[strings.ToLower(r.Kind)+"/"+r.Name] = true
	}
	var missing []string
	for _, n := range o.names {
		key := n
		if kind, name, ok := strings.Cut(n, "/"); ok {
			k, _ := atlas.ParseKind(kind)
			key = strings.ToLower(k.Kind) + "/" + name
		}
		if !found[key] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return exitcode.Newf(exitcode.Failure, "not found in namespace %s: %s (no AtlasSchema or AtlasMigration of that name; see `kubectl atlas status` for what exists)",
			o.namespace(), strings.Join(missing, ", "))
	}
	return nil
}

func (o *StatusOptions) checkDirHasMigrations(recs []status.Record) error {
	for _, r := range recs {
		if r.Kind == atlas.KindAtlasMigration {
			return nil
		}
	}
	return exitcode.Newf(exitcode.Failure, "--dir compares a directory with AtlasMigration resources, and none was found")
}

// records judges every object and sorts the records (namespace, kind, name).
func (o *StatusOptions) records(objs []unstructured.Unstructured) []status.Record {
	recs := o.judge(objs)
	sortRecords(recs)
	return recs
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

func sortRecords(recs []status.Record) {
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
}

func (o *StatusOptions) record(obj *unstructured.Unstructured) status.Record {
	r := status.Summarize(obj)
	if o.Dir != "" && r.Kind == atlas.KindAtlasMigration {
		r.Pending = atlas.PendingVersions(o.versions, r.LastAppliedVersion)
	}
	return r
}

// statusList is the -o json|yaml document.
type statusList struct {
	Items []status.Record `json:"items"`
}

func (o *StatusOptions) print(recs []status.Record) error {
	switch o.Output {
	case "json":
		b, err := json.MarshalIndent(statusList{Items: nonNil(recs)}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(statusList{Items: nonNil(recs)})
		if err != nil {
			return err
		}
		_, err = o.Out.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(o.Out, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(o.header(), "\t"))
	for i := range recs {
		fmt.Fprintln(tw, strings.Join(o.row(&recs[i]), "\t"))
	}
	return tw.Flush()
}

func nonNil(recs []status.Record) []status.Record {
	if recs == nil {
		return []status.Record{}
	}
	return recs
}

func (o *StatusOptions) header() []string {
	var h []string
	if o.AllNamespaces {
		h = append(h, "NAMESPACE")
	}
	h = append(h, "NAME", "KIND", "HEALTH", "REASON", "APPLIED", "AGE")
	if o.Dir != "" {
		h = append(h, "PENDING")
	}
	if o.Output == "wide" {
		h = append(h, "GENERATION", "FAILED", "URL")
	}
	return append(h, "MESSAGE")
}

func (o *StatusOptions) row(r *status.Record) []string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var row []string
	if o.AllNamespaces {
		row = append(row, r.Namespace)
	}
	applied := r.LastAppliedVersion
	if r.Kind == atlas.KindAtlasSchema && !r.LastAppliedAt().IsZero() {
		applied = duration.HumanDuration(o.now().Sub(r.LastAppliedAt())) + " ago"
	}
	row = append(row, r.Name, r.Kind, string(r.Health.Status), dash(r.Reason), dash(applied), duration.HumanDuration(r.Age(o.now())))
	if o.Dir != "" {
		row = append(row, pendingCell(r, o.Output == "wide"))
	}
	msg := r.Health.Message
	if msg == "" {
		for _, c := range r.Conditions {
			if c.Type == "Ready" {
				msg = c.Message
			}
		}
	}
	if o.Output == "wide" {
		url := r.ApprovalURL
		if url == "" {
			url = r.PlanURL
		}
		row = append(row, strconv.FormatInt(r.ObservedGeneration, 10)+"/"+strconv.FormatInt(r.Generation, 10), strconv.FormatInt(r.Failed, 10), dash(url))
		msg = strings.Join(strings.Fields(msg), " ")
	} else {
		msg = firstLineOf(msg)
	}
	return append(row, dash(msg))
}

func pendingCell(r *status.Record, wide bool) string {
	if r.Kind != atlas.KindAtlasMigration {
		return "-"
	}
	if len(r.Pending) == 0 {
		return "0"
	}
	list := r.Pending
	more := ""
	if !wide && len(list) > 3 {
		list, more = list[:3], ",..."
	}
	return fmt.Sprintf("%d (%s%s)", len(r.Pending), strings.Join(list, ","), more)
}

// watch prints the table once every selector has listed, then one line per change.
func (o *StatusOptions) watch(ctx context.Context) error {
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	sels := o.selectors()
	events := o.client.Follow(sigCtx, sels)
	objs := map[string]*unstructured.Unstructured{}
	lastRow := map[string]string{}
	synced := 0
	tw := tabwriter.NewWriter(o.Out, 6, 4, 3, ' ', 0)
	emit := func(key string, obj *unstructured.Unstructured, deleted bool) error {
		r := o.record(obj)
		if deleted {
			r.Health.Status, r.Health.Message = "Deleted", ""
		}
		switch o.Output {
		case "json":
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if string(b) == lastRow[key] {
				return nil
			}
			lastRow[key] = string(b)
			_, err = fmt.Fprintln(o.Out, string(b))
			return err
		case "yaml":
			b, err := yaml.Marshal(r)
			if err != nil {
				return err
			}
			if string(b) == lastRow[key] {
				return nil
			}
			lastRow[key] = string(b)
			_, err = fmt.Fprintf(o.Out, "---\n%s", b)
			return err
		}
		line := strings.Join(o.row(&r), "\t")
		// The age column changes every second; compare without it.
		if cmp := strings.Join(o.rowWithoutAge(&r), "\t"); cmp == lastRow[key] {
			return nil
		} else {
			lastRow[key] = cmp
		}
		fmt.Fprintln(tw, line)
		return tw.Flush()
	}
	for {
		var ev cluster.Event
		select {
		case <-sigCtx.Done():
			if ctx.Err() == nil {
				return exitcode.Newf(exitcode.Interrupted, "interrupted")
			}
			return ctx.Err()
		case e, ok := <-events:
			if !ok {
				return ctx.Err()
			}
			ev = e
		}
		switch ev.Type {
		case cluster.Fatal:
			return exitcode.New(exitcode.Failure, ev.Err)
		case cluster.Trouble:
			fmt.Fprintf(o.ErrOut, "the API server is unreachable, retrying: %s\n", redact.String(ev.Err.Error()))
		case cluster.Recovered:
			fmt.Fprintln(o.ErrOut, "the API server is reachable again")
		case cluster.Synced:
			synced++
			if synced != len(sels) {
				continue
			}
			var list []unstructured.Unstructured
			for _, obj := range objs {
				list = append(list, *obj)
			}
			recs := o.records(list)
			if len(recs) == 0 {
				fmt.Fprintf(o.ErrOut, "No AtlasSchema or AtlasMigration resources found yet; watching.\n")
			}
			if o.Output == "" || o.Output == "wide" {
				fmt.Fprintln(tw, strings.Join(o.header(), "\t"))
			}
			for i := range recs {
				key := recs[i].Namespace + "/" + recs[i].Kind + "/" + recs[i].Name
				if err := emit(key, objs[key], false); err != nil {
					return err
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		case cluster.Upsert, cluster.Delete:
			key := ev.Obj.GetNamespace() + "/" + ev.Obj.GetKind() + "/" + ev.Obj.GetName()
			if ev.Type == cluster.Delete {
				delete(objs, key)
			} else {
				objs[key] = ev.Obj
			}
			if synced < len(sels) {
				continue
			}
			if err := emit(key, ev.Obj, ev.Type == cluster.Delete); err != nil {
				return err
			}
		}
	}
}

func (o *StatusOptions) rowWithoutAge(r *status.Record) []string {
	row := o.row(r)
	i := 5
	if o.AllNamespaces {
		i = 6
	}
	row[i] = ""
	if r.Kind == atlas.KindAtlasSchema {
		row[i-1] = r.LastApplied
	}
	return row
}
