package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/doctor"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

const doctorLong = `Check everything a person would check when an AtlasMigration or AtlasSchema is stuck, and
say what is wrong and how to fix it. Each finding is OK, INFO, WARN or FAIL:

  health, ready, failures  the health verdict (the one Argo CD gives) and why; the Ready
                           condition and whether it is about the current generation; the
                           failure count against spec.backoffLimit
  approval                 a plan waiting for approval, with its URL
  events                   the operator's Events about the resource
  url, dev-url, config,    the referenced Secrets and keys exist (values are never shown); the
  cloud-token              URLs parse and name a driver the operator knows (said without the
                           password)
  configmap, atlas.sum,    the migrations ConfigMap exists, its atlas.sum is valid, the files
  pending, dir             after lastAppliedVersion in atlas's order; with --dir, the local files
                           that differ from the cluster's (an edited applied file is what makes
                           atlas report "checksum mismatch")
  schema                   an AtlasSchema's schema (inline or ConfigMap) parses
  dev-db                   the dev database: in-memory for SQLite, devURL, or the operator's
                           <name>-atlas-dev-db Deployment and its Pods
  operator, watch, rbac    a Deployment runs the operator (ready, version), it watches the
                           namespace and labels (its --namespace and --label-selector flags),
                           its service account may read the Secrets and ConfigMaps
                           (SubjectAccessReview)
  logs                     the operator's last log lines that mention the resource

When the operator runs outside the cluster (a local run), doctor says so and skips what it
cannot see. Other kinds of db.atlasgo.io get the checks of their status (health, ready,
failures, events, operator).

-o json|yaml|name|jsonpath=...|go-template=... print a List through kubectl's printers, one
item per resource: {.status.result} is the worst severity, {.status.findings} the findings.
Credentials are redacted everywhere.

--report FILE also writes a tar.gz for a bug report: the findings, the resources, the
referenced ConfigMaps, the referenced Secrets as key names only, Events, the operator's
Deployment and log lines where readable, and the versions of the plugin, the operator and the
API server. Every file is redacted; nothing secret is inside. An existing FILE is refused
unless --force.

Exit codes:
  0    no FAIL finding (WARN and INFO do not count)
  1    error (API server unreachable, RBAC denial, CRDs not installed, unreadable --dir,
       --report FILE exists without --force)
  2    usage error
  3    a FAIL finding (the resource cannot become healthy until it is fixed)`

const doctorExample = `  # Why is this migration stuck?
  kubectl atlas doctor atlasmigration/myapp -n prod

  # Which local file differs from the cluster's (checksum mismatch)
  kubectl atlas doctor atlasmigration/myapp --dir migrations/

  # Every Atlas resource of every namespace, the failing checks only
  kubectl atlas doctor --all -A -o jsonpath='{range .items[*]}{.metadata.name}: {.status.findings[?(@.severity=="FAIL")].check}{"\n"}{end}'

  # A bundle to attach to an issue
  kubectl atlas doctor atlasmigration/myapp --report atlas-report.tar.gz`

// doctorWorkers is how many resources doctor examines at once.
const doctorWorkers = 8

// DoctorOptions implements `kubectl atlas doctor`.
type DoctorOptions struct {
	configFlags *genericclioptions.ConfigFlags

	All           bool
	AllNamespaces bool
	Selector      string
	Dir           string
	Report        string
	Force         bool
	PrintFlags    *genericclioptions.PrintFlags

	names   []string
	client  *cluster.Client
	kube    kubernetes.Interface
	local   *migdir.Dir
	printer *recordPrinter

	genericiooptions.IOStreams
}

// NewCmdDoctor returns the doctor command.
func NewCmdDoctor(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DoctorOptions{configFlags: configFlags, IOStreams: streams, PrintFlags: genericclioptions.NewPrintFlags("")}
	cmd := &cobra.Command{
		Use:     "doctor [NAME | KIND/NAME ... | -l SELECTOR | --all] [-n NS | -A] [--dir DIR] [-o json|yaml] [--report FILE]",
		Short:   "Find out why an AtlasMigration or AtlasSchema is stuck",
		Long:    doctorLong,
		Example: doctorExample,
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
	cmd.Flags().BoolVar(&o.All, "all", false, "Every Atlas resource of the namespace (or of all namespaces with -A)")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Look in all namespaces")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "Local migration directory: name the files that differ from the cluster's")
	cmd.Flags().StringVar(&o.Report, "report", "", "Also write a redacted tar.gz bug-report bundle to this file")
	cmd.Flags().BoolVar(&o.Force, "force", false, "Overwrite an existing --report file")
	o.PrintFlags.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "Output format: '' (findings per resource), " + strings.Join(o.PrintFlags.AllowedFormats(), ", ")
	cmd.ValidArgsFunction = completeStatusArgs(configFlags)
	return cmd
}

// Complete builds the printer, reads --dir and builds the clients.
func (o *DoctorOptions) Complete(args []string) error {
	o.names = args
	if *o.PrintFlags.OutputFormat == "wide" {
		return exitcode.UsageErrorf("--output wide is a status format: doctor prints its findings, or -o %s", strings.Join(o.PrintFlags.AllowedFormats(), "|"))
	}
	p, err := newRecordPrinter(o.PrintFlags, false)
	if err != nil {
		return err
	}
	o.printer = p
	if o.Dir != "" {
		if o.local, err = migdir.Read(o.Dir, migdir.Options{}); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	if o.client, err = cluster.New(o.configFlags); err != nil {
		return err
	}
	if o.kube, err = kubernetes.NewForConfig(o.client.Config); err != nil {
		return fmt.Errorf("building the API client: %w", cluster.Redacted(err))
	}
	return nil
}

// Validate checks flags and arguments.
func (o *DoctorOptions) Validate() error {
	chosen := 0
	for _, b := range []bool{len(o.names) > 0, o.Selector != "", o.All} {
		if b {
			chosen++
		}
	}
	switch {
	case chosen == 0:
		return exitcode.UsageErrorf("name the resources (KIND/NAME), select them with -l, or pass --all")
	case chosen > 1:
		return exitcode.UsageErrorf("name the resources, select them with -l, or pass --all: only one of them")
	case len(o.names) > 0 && o.AllNamespaces:
		return exitcode.UsageErrorf("names are looked up in one namespace: use -n NAMESPACE, not -A")
	case o.Force && o.Report == "":
		return exitcode.UsageErrorf("--force overwrites the --report file: pass --report FILE too")
	}
	return validateNames(o.names)
}

func (o *DoctorOptions) namespace() string {
	if o.AllNamespaces {
		return ""
	}
	return o.client.Namespace
}

// Run examines the resources, prints the findings and writes the report.
func (o *DoctorOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	objs, err := o.list(ctx)
	if err != nil {
		return err
	}
	red := redact.For(o.ErrOut)
	d := doctor.New(o.kube, doctor.Options{Dir: o.local, Redactor: red})
	for i := range objs {
		registerObjectSecrets(red, objs[i].Object)
	}
	// each resource takes a few round trips: examine several at a time (--all -A)
	results := make([]doctor.Result, len(objs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(doctorWorkers, len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(objs); i = int(next.Add(1)) - 1 {
				results[i] = d.Examine(ctx, &objs[i])
			}
		}()
	}
	wg.Wait()
	doctor.Sort(results)
	if len(results) == 0 && o.printer.table() {
		where := fmt.Sprintf("in namespace %s", o.namespace())
		if o.AllNamespaces {
			where = "in any namespace"
		}
		if o.Selector != "" {
			where += " matching " + o.Selector
		}
		fmt.Fprintf(o.ErrOut, "No AtlasSchema or AtlasMigration resources found %s.\n", where)
	} else if err := o.print(o.Out, results); err != nil {
		return err
	}
	if o.Report != "" {
		if err := o.writeReport(ctx, d, results); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "wrote %s (redacted: Secrets as key names only)\n", o.Report)
	}
	var failed []string
	for i := range results {
		if results[i].Failed() {
			failed = append(failed, results[i].Ref())
		}
	}
	if len(failed) > 0 {
		return exitcode.Newf(exitcode.Degraded, "FAIL findings for %s", strings.Join(failed, ", "))
	}
	return nil
}

// list reads the chosen resources, failing for a name that matched nothing.
func (o *DoctorOptions) list(ctx context.Context) ([]unstructured.Unstructured, error) {
	kinds, err := discoverKinds(o.client, typedKinds(o.names), o.namespace())
	if err != nil {
		return nil, err
	}
	var objs []unstructured.Unstructured
	for _, sel := range atlasSelectors(kinds, o.namespace(), o.names, o.Selector) {
		items, _, err := o.client.List(ctx, sel)
		if err != nil {
			return nil, cluster.Explain(err, "list", sel.GVR, sel.Namespace)
		}
		objs = append(objs, items...)
	}
	found := make([][2]string, len(objs))
	for i := range objs {
		found[i] = [2]string{objs[i].GetKind(), objs[i].GetName()}
	}
	if missing := missingNames(kinds, o.names, found); len(missing) > 0 {
		return nil, exitcode.Newf(exitcode.Failure, "not found in namespace %s: %s (no AtlasSchema or AtlasMigration of that name; see `kubectl atlas status` for what exists)",
			o.namespace(), strings.Join(missing, ", "))
	}
	return objs, nil
}

func (o *DoctorOptions) print(w io.Writer, results []doctor.Result) error {
	if !o.printer.table() {
		items := make([]any, len(results))
		for i := range results {
			items[i] = &results[i]
		}
		return printList(o.printer.printer, w, items)
	}
	return printFindings(w, results, o.AllNamespaces)
}

// printFindings writes the findings of each resource as a block: a title line, then one line
// per finding (severity, check, what it saw; continuation lines indented) and its fix.
func printFindings(w io.Writer, results []doctor.Result, withNamespace bool) error {
	const checkWidth = 11
	indent := strings.Repeat(" ", 2+4+2+checkWidth+2)
	var b bytes.Buffer
	for i, r := range results {
		if i > 0 {
			b.WriteByte('\n')
		}
		title := r.Ref()
		if withNamespace {
			title = r.Metadata.Namespace + "/" + title
		}
		health := string(r.Status.Health)
		if health == "" {
			health = "no verdict"
		}
		fmt.Fprintf(&b, "%s: %s (health %s)\n", title, r.Status.Result, health)
		for _, f := range r.Status.Findings {
			lines := strings.Split(strings.TrimRight(f.Saw, "\n"), "\n")
			fmt.Fprintf(&b, "  %-4s  %-*s  %s\n", f.Severity, checkWidth, f.Check, lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(&b, "%s%s\n", indent, l)
			}
			if f.Fix != "" {
				fmt.Fprintf(&b, "%sfix: %s\n", indent, f.Fix)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeReport writes the bug-report bundle.
func (o *DoctorOptions) writeReport(ctx context.Context, d *doctor.Doctor, results []doctor.Result) error {
	var text, js bytes.Buffer
	if err := printFindings(&text, results, true); err != nil {
		return err
	}
	items := make([]any, len(results))
	for i := range results {
		items[i] = &results[i]
	}
	jp, err := genericclioptions.NewJSONYamlPrintFlags().ToPrinter("json")
	if err != nil {
		return err
	}
	if err := printList(jp, &js, items); err != nil {
		return err
	}
	versions := doctor.Versions{Plugin: buildInfo()}
	if sv, err := o.kube.Discovery().ServerVersion(); err == nil {
		versions.APIServer = sv.GitVersion
	} else {
		versions.APIServer = "unknown: " + cluster.Redacted(err).Error()
	}
	files, err := d.Bundle(results, d.Operator(ctx), versions, text.Bytes(), js.Bytes())
	if err != nil {
		return err
	}
	err = doctor.WriteTarGz(o.Report, files, o.Force)
	var ee *fsutil.ExistsError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s exists: pass --force to overwrite it, or choose another --report file", o.Report)
	}
	return err
}
