package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/history"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

const historyLong = `List every migration of an AtlasMigration, in the order atlas applies them, with its state:
applied, pending, or failed (with the operator's message), as Flyway's 'info' does.

The migrations are the files of the directory the cluster holds: the ConfigMap named by
spec.dir.configMapRef (or spec.dir.local). The states come from the AtlasMigration's status
alone (lastAppliedVersion, the Ready condition); no database connection is made. atlas applies
files in file-name order and counts a version as applied when it is not above
lastAppliedVersion, compared as strings ("10" < "9" with unpadded versions). When a run failed
on a statement, the operator's message names the file ("from version V"): that file is failed
and the files before it were applied by that run (atlas stops at the first failure), even when
lastAppliedVersion does not say so yet. A failure that names no file (a checksum error, a
database that cannot be reached) marks no file: the header shows it.

Files converted from Flyway repeatables (R__) and Liquibase runOnChange changesets carry their
checksum in their version: TYPE shows "repeatable" or "runOnChange" and the checksum, and
VERSION a dash (repeatables) or the version they are ordered by. Such a directory runs
non-linear: files below lastAppliedVersion can be pending too, which the status cannot tell
('atlas migrate status' on the database can).

--dir DIR compares with a local migration directory (read and converted as 'configmap' packs it):
LOCAL says same, differs, cluster only, or local only for each file. An applied file that
differs locally is the usual cause of atlas's checksum errors once the local directory is
deployed: history warns about it on stderr.

-o json|yaml|name|jsonpath=...|go-template=... go through kubectl's printers, on one object: the
AtlasMigration's apiVersion, kind and metadata, and status.migrations (version, description,
file, type, checksum, state, message, local). Credentials in messages are redacted.

Exit codes:
  0    listed
  1    error (AtlasMigration or ConfigMap not found, a remote directory, API error, unreadable --dir)
  2    usage error`

const historyExample = `  # Every migration of an AtlasMigration and its state
  kubectl atlas history myapp -n shop

  # Compare with the local directory before deploying it
  kubectl atlas history atlasmigration/myapp --dir migrations/

  # The failed migration and its error, for a script
  kubectl atlas history myapp -o jsonpath='{range .status.migrations[?(@.state=="failed")]}{.file}: {.message}{"\n"}{end}'`

// HistoryOptions implements `kubectl atlas history`.
type HistoryOptions struct {
	configFlags *genericclioptions.ConfigFlags

	Dir        string
	PrintFlags *genericclioptions.PrintFlags

	name    string
	client  *cluster.Client
	local   *migdir.Dir
	printer *recordPrinter

	genericiooptions.IOStreams
}

// NewCmdHistory returns the history command.
func NewCmdHistory(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &HistoryOptions{configFlags: configFlags, IOStreams: streams, PrintFlags: genericclioptions.NewPrintFlags("")}
	cmd := &cobra.Command{
		Use:     "history NAME | atlasmigration/NAME [-n NS] [--dir DIR] [-o json|yaml|...]",
		Short:   "List the migrations of an AtlasMigration with their state (applied, pending, failed)",
		Long:    historyLong,
		Example: historyExample,
		Args:    usageArgs(cobra.ExactArgs(1)),
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
	o.PrintFlags.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "Output format: '' (table), " + strings.Join(o.PrintFlags.AllowedFormats(), ", ")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "Local migration directory to compare with the cluster's")
	cmd.ValidArgsFunction = completeHistoryArgs(configFlags)
	return cmd
}

// Complete builds the printer and the client and reads --dir.
func (o *HistoryOptions) Complete(args []string) error {
	o.name = args[0]
	p, err := newRecordPrinter(o.PrintFlags, false)
	if err != nil {
		return err
	}
	if p.wide {
		return exitcode.UsageErrorf("--output must be one of %s, not wide", strings.Join(o.PrintFlags.AllowedFormats(), ", "))
	}
	o.printer = p
	if o.Dir != "" {
		if o.local, err = migdir.Read(o.Dir, migdir.Options{}); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	o.client, err = cluster.New(o.configFlags)
	return err
}

// Validate checks the argument: a name, or atlasmigration/NAME.
func (o *HistoryOptions) Validate() error {
	if kind, name, ok := strings.Cut(o.name, "/"); ok {
		k, err := atlas.ParseKind(kind)
		if err != nil || k.Kind != atlas.KindAtlasMigration {
			return exitcode.UsageErrorf("%s: history lists the migrations of an AtlasMigration: give NAME or atlasmigration/NAME", o.name)
		}
		if name == "" {
			return exitcode.UsageErrorf("%s: missing name after the slash", o.name)
		}
		o.name = name
	}
	return nil
}

// Run reads the AtlasMigration and its directory and prints the history.
func (o *HistoryOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ns := o.client.Namespace
	obj, err := o.client.Dynamic.Resource(atlas.MigrationGVR).Namespace(ns).Get(ctx, o.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && !cluster.IsResourceMissing(err) {
		return exitcode.Newf(exitcode.Failure, "AtlasMigration %s not found in namespace %s (see `kubectl atlas status` for what exists)", o.name, ns)
	}
	if err != nil {
		return cluster.Explain(err, "get", atlas.MigrationGVR, ns)
	}
	registerObjectSecrets(redact.For(o.ErrOut), obj.Object)
	cmName, files, err := history.DirSource(obj)
	if err != nil { // a remote directory (history.RemoteDirError) or none
		return exitcode.New(exitcode.Failure, err)
	}
	source := "spec.dir.local"
	if cmName != "" {
		source = "ConfigMap " + cmName
		gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		cm, err := o.client.Dynamic.Resource(gvr).Namespace(ns).Get(ctx, cmName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return exitcode.Newf(exitcode.Failure, "ConfigMap %s not found in namespace %s: AtlasMigration %s reads its migrations from it (spec.dir.configMapRef); create it, e.g. with `kubectl atlas configmap --dir DIR --name %s`", cmName, ns, o.name, cmName)
		}
		if err != nil {
			return cluster.Explain(err, "get", gvr, ns)
		}
		files, _, _ = unstructured.NestedStringMap(cm.Object, "data")
	}
	h := history.Build(obj, source, files)
	if o.local != nil {
		h.CompareLocal(o.local)
	}
	o.notes(h)
	if !o.printer.table() {
		u, err := historyObject(obj, h)
		if err != nil {
			return err
		}
		return o.printer.printer.PrintObj(u, o.Out)
	}
	return o.table(o.Out, h)
}

// notes says on stderr what the table cannot: edited applied files and the non-linear caveat.
func (o *HistoryOptions) notes(h *history.History) {
	for _, m := range h.Edited() {
		fmt.Fprintf(o.ErrOut, "warning: %s was applied and differs in %s: deploying it changes a migration atlas already ran (atlas reports a checksum error, or the change never reaches the database); restore the applied content and put the change in a new migration\n", m.File, o.Dir)
	}
	if h.NonLinear {
		fmt.Fprintln(o.ErrOut, "note: the directory runs non-linear (repeatable or runOnChange files): files below lastAppliedVersion may be pending too, which the status cannot tell ('atlas migrate status' on the database lists them)")
	}
}

func (o *HistoryOptions) table(w io.Writer, h *history.History) error {
	last := h.LastAppliedVersion
	if last == "" {
		last = "none"
	}
	health := string(h.Health.Status)
	if h.Reason != "" {
		health += " (" + h.Reason + ")"
	}
	fmt.Fprintf(w, "AtlasMigration %s/%s, %s: %s, last applied version %s\n", h.Namespace, h.Name, h.Source, health, last)
	if h.Health.Message != "" && h.Health.Status != healthcheck.Healthy {
		if _, failed := h.Failed(); !failed { // the failed file's message follows the table
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(h.Health.Message, "\n", "\n  "))
		}
	}
	fmt.Fprintln(w)
	if len(h.Migrations) == 0 {
		fmt.Fprintln(w, "No migration files.")
		return nil
	}
	tw := newTable(w)
	head := "VERSION\tDESCRIPTION\tTYPE\tSTATE"
	if o.local != nil {
		head += "\tLOCAL"
	}
	fmt.Fprintln(tw, head)
	for _, m := range h.Migrations {
		version, typ := m.Version, string(m.Type)
		switch m.Type {
		case history.Repeatable:
			version, typ = "-", typ+" "+m.Checksum
		case history.RunOnChange:
			version, _, _ = strings.Cut(m.Version, "-")
			typ += " " + m.Checksum
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", version, dash(m.Description), typ, m.State)
		if o.local != nil {
			line += "\t" + string(m.Local)
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m, ok := h.Failed(); ok {
		fmt.Fprintf(w, "\n%s failed:\n  %s\n", m.File, strings.ReplaceAll(m.Message, "\n", "\n  "))
	}
	return nil
}

// historyObject is the history as kubectl's printers see it: the AtlasMigration's identity and
// the migrations under status.
func historyObject(obj *unstructured.Unstructured, h *history.History) (*unstructured.Unstructured, error) {
	type summary struct {
		Health             string              `json:"health"`
		Message            string              `json:"message,omitempty"`
		Reason             string              `json:"reason,omitempty"`
		LastAppliedVersion string              `json:"lastAppliedVersion,omitempty"`
		Source             string              `json:"source"`
		NonLinear          bool                `json:"nonLinear,omitempty"`
		Migrations         []history.Migration `json:"migrations"`
	}
	migrations := h.Migrations
	if migrations == nil {
		migrations = []history.Migration{}
	}
	b, err := json.Marshal(map[string]any{
		"apiVersion": obj.GetAPIVersion(),
		"kind":       obj.GetKind(),
		"metadata":   map[string]any{"name": h.Name, "namespace": h.Namespace},
		"status": summary{Health: string(h.Health.Status), Message: h.Health.Message, Reason: h.Reason,
			LastAppliedVersion: h.LastAppliedVersion, Source: h.Source, NonLinear: h.NonLinear, Migrations: migrations},
	})
	if err != nil {
		return nil, err
	}
	var u unstructured.Unstructured
	return &u, u.UnmarshalJSON(b)
}
