package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/progress"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

const waitLong = `Wait until Atlas resources are healthy, applied up to a version, or deleted.

Any kind of db.atlasgo.io the cluster serves can be waited for (AtlasMigration, AtlasSchema,
AtlasDriftCheck, ...; found through discovery, cached as kubectl caches it); kinds without a
health script of their own are judged by the generic rule on Ready, Reconciling, Stalled and
observedGeneration.

It lists and then watches the resources (no polling), resumes after watch expiry and API
server restarts, and waits for resources that do not exist yet. Health is the verdict of the
project's Argo CD health check, the same one 'kubectl atlas healthcheck generate' installs.

It returns as soon as every resource is Healthy (with --for applied=VERSION, also
VERSION <= status.lastAppliedVersion, compared as atlas compares versions: as strings, byte
by byte, so with unpadded versions "10" comes before "9") and fails at once, printing the
operator's error, when one is Degraded. Suspended (a plan waiting for approval) is reported and waited out. A
resource named on the command line that is deleted while waited for is a failure.

Progress goes to stderr when it is a terminal; one line per resource goes to stdout on success.

Exit codes:
  0    every resource met the condition
  1    error (API error, RBAC denial, CRDs missing, a waited-for resource was deleted)
  2    usage error
  3    a resource is Degraded
  4    --timeout expired
  130  interrupted (Ctrl-C)`

const waitExample = `  # Wait for one migration to be applied and healthy
  kubectl atlas wait atlasmigration/myapp -n prod

  # Wait until the migration reached version 20240520103000
  kubectl atlas wait atlasmigration/myapp --for applied=20240520103000 --timeout 10m

  # Every Atlas resource with a label, or all of them in the namespace
  kubectl atlas wait -l app=myapp
  kubectl atlas wait atlasschema --all

  # Wait for every AtlasMigration in every namespace
  kubectl atlas wait atlasmigration --all -A

  # Wait for a deletion
  kubectl atlas wait atlasschema/old --for delete`

// Wait conditions.
const (
	forHealthy = "healthy"
	forApplied = "applied"
	forDelete  = "delete"
)

// WaitOptions implements `kubectl atlas wait`.
type WaitOptions struct {
	configFlags *genericclioptions.ConfigFlags

	Selector      string
	All           bool
	AllNamespaces bool
	For           string
	Timeout       time.Duration

	args    []string
	client  *cluster.Client
	kinds   groupKinds
	refs    []cluster.Ref
	sets    []cluster.Selector
	cond    string
	version string

	genericiooptions.IOStreams
}

// NewCmdWait returns the wait command.
func NewCmdWait(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &WaitOptions{configFlags: configFlags, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "wait [KIND/NAME... | KIND (-l SELECTOR | --all) | -l SELECTOR | --all] [-n NS | -A] [--for healthy|applied=VERSION|delete] [--timeout D]",
		Short:   "Wait until Atlas resources are healthy, applied up to a version, or deleted",
		Long:    waitLong,
		Example: waitExample,
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
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector: wait for every Atlas resource it matches (at least one must exist)")
	cmd.Flags().BoolVar(&o.All, "all", false, "Wait for every Atlas resource (any kind of db.atlasgo.io) in the namespace (of KIND, if given)")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "With -l or --all: select in all namespaces")
	cmd.Flags().StringVar(&o.For, "for", forHealthy, "Condition: healthy, applied=VERSION (AtlasMigration), or delete")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "How long to wait; 0 checks once without waiting, a negative value waits without limit")
	cmd.ValidArgsFunction = completeWaitArgs(configFlags)
	return cmd
}

// Complete parses the arguments and builds the client.
func (o *WaitOptions) Complete(args []string) error {
	o.args = args
	cond, version, _ := strings.Cut(o.For, "=")
	o.cond, o.version = strings.ToLower(strings.TrimSpace(cond)), strings.TrimSpace(version)
	c, err := cluster.New(o.configFlags)
	if err != nil {
		return err
	}
	o.client = c
	return nil
}

// Validate checks flags and arguments, then resolves them into refs and selections.
func (o *WaitOptions) Validate() error {
	if err := o.validateFlags(); err != nil {
		return err
	}
	return o.resolve()
}

func (o *WaitOptions) validateFlags() error {
	switch {
	case o.cond == forHealthy || o.cond == forDelete:
		if o.version != "" {
			return exitcode.UsageErrorf("--for %s takes no value", o.cond)
		}
	case o.cond == forApplied:
		if o.version == "" {
			return exitcode.UsageErrorf("--for applied needs a version: --for applied=20240520103000")
		}
	default:
		return exitcode.UsageErrorf("--for must be healthy, applied=VERSION or delete, not %q", o.For)
	}
	selecting := o.Selector != "" || o.All
	if o.Selector != "" && o.All {
		return exitcode.UsageErrorf("use either -l/--selector or --all, not both")
	}
	if len(o.args) == 0 && !selecting {
		return exitcode.UsageErrorf("name what to wait for: KIND/NAME..., -l SELECTOR or --all")
	}
	if o.AllNamespaces && !selecting {
		return exitcode.UsageErrorf("names are looked up in one namespace: use -n NAMESPACE, or -A with -l SELECTOR or --all")
	}
	for _, a := range o.args {
		_, name, hasName := strings.Cut(a, "/")
		switch {
		case hasName && name == "":
			return exitcode.UsageErrorf("%s: missing name after the slash", a)
		case hasName && selecting:
			return exitcode.UsageErrorf("%s: name resources or select them with -l/--all, not both", a)
		case !hasName && !selecting:
			return exitcode.UsageErrorf("%s: a kind alone needs -l SELECTOR or --all; to wait for one resource use %s/NAME", a, a)
		}
	}
	return nil
}

// resolve turns arguments into refs and selections, with the kinds the cluster serves.
func (o *WaitOptions) resolve() error {
	ns := o.client.Namespace
	if o.AllNamespaces {
		ns = ""
	}
	typed := make([]string, len(o.args))
	for i, a := range o.args {
		typed[i], _, _ = strings.Cut(a, "/")
	}
	var err error
	if o.kinds, err = discoverKinds(o.client, typed, ns); err != nil {
		return err
	}
	kinds := o.kinds.all
	if o.Selector != "" || o.All {
		if len(o.args) > 0 {
			// Several kinds with a selector: fine, each kind once.
			kinds = nil
			seen := map[string]bool{}
			for _, a := range o.args {
				k, _ := o.kinds.lookup(a)
				if seen[k.Kind] {
					return exitcode.UsageErrorf("%s given twice", a)
				}
				seen[k.Kind] = true
				kinds = append(kinds, k)
			}
		}
		for _, k := range kinds {
			if o.cond == forApplied && k.Kind != atlas.KindAtlasMigration {
				if len(o.args) == 0 {
					continue // applied=VERSION selects migrations only
				}
				return exitcode.UsageErrorf("--for applied=VERSION applies to AtlasMigration only (%s has no version)", k.Kind)
			}
			o.sets = append(o.sets, cluster.Selector{GVR: k.GVR, Namespace: ns, LabelSelector: o.Selector})
		}
		return nil
	}
	seen := map[cluster.Ref]bool{}
	for _, a := range o.args {
		kind, name, _ := strings.Cut(a, "/")
		k, _ := o.kinds.lookup(kind)
		if o.cond == forApplied && k.Kind != atlas.KindAtlasMigration {
			return exitcode.UsageErrorf("%s: --for applied=VERSION applies to AtlasMigration only (%s has no version)", a, k.Kind)
		}
		r := cluster.Ref{GVR: k.GVR, Kind: k.Kind, Namespace: ns, Name: name}
		if !seen[r] {
			seen[r] = true
			o.refs = append(o.refs, r)
		}
	}
	return nil
}

// judge decides on one object for the chosen condition.
func (o *WaitOptions) judge(obj *unstructured.Unstructured, deleted bool) cluster.Check {
	if o.cond == forDelete {
		if obj == nil {
			return cluster.Check{State: cluster.Done, Status: "Deleted"}
		}
		if obj.GetDeletionTimestamp() != nil {
			return cluster.Check{State: cluster.Pending, Status: "Deleting", Message: "pending deletion (finalizers)"}
		}
		return cluster.Check{State: cluster.Pending, Status: "Exists", Message: "waiting for it to be deleted"}
	}
	ch := cluster.Judge(obj, deleted)
	if obj != nil && ch.State == cluster.Done {
		v, _, _ := unstructured.NestedString(obj.Object, "status", "lastAppliedVersion")
		if v != "" {
			ch.Note = "version " + v
		}
		if o.cond == forApplied && !atlas.VersionApplied(o.version, v) {
			ch.State = cluster.Pending
			ch.Status = string(healthcheck.Progressing)
			have := v
			if have == "" {
				have = "none"
			}
			ch.Message = fmt.Sprintf("applied version %s, waiting for %s", have, o.version)
		}
	}
	return ch
}

// Run waits.
func (o *WaitOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	waitCtx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	progress := progress.New(o.ErrOut)
	spec := cluster.WaitSpec{
		Objects:      o.refs,
		Sets:         o.sets,
		AllowEmpty:   o.cond == forDelete,
		Once:         o.Timeout == 0,
		Judge:        o.judge,
		OnConnection: progress.Connection,
		OnChange: func(ref cluster.Ref, c cluster.Check) {
			subject := ""
			if ref.Name != "" {
				subject = ref.String()
			}
			if c.Notice {
				progress.Notice(subject, c.Status, c.Message)
				return
			}
			progress.Line(subject, c.Status, c.Message)
		},
	}
	outcomes, err := o.client.Wait(waitCtx, spec)
	interrupted := ctx.Err() != nil // Ctrl-C (plugin.Main)
	var failed *cluster.FailedError
	isCtxErr := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	switch {
	case err == nil:
		for _, oc := range outcomes {
			if oc.Check.State != cluster.Done {
				continue
			}
			fmt.Fprintln(o.Out, o.successLine(oc))
		}
		return nil
	case errors.As(err, &failed):
		if failed.Degraded() {
			return exitcode.New(exitcode.Degraded, fmt.Errorf("%s in namespace %s is Degraded: %s", failed.Ref, failed.Ref.Namespace, redact.String(failed.Check.Message)))
		}
		return exitcode.Newf(exitcode.Failure, "%s in namespace %s was deleted while waiting for it", failed.Ref, failed.Ref.Namespace)
	case isCtxErr && interrupted:
		return exitcode.Newf(exitcode.Interrupted, "interrupted; still waiting for: %s", pendingList(outcomes, o.refs))
	case isCtxErr && errors.Is(err, context.DeadlineExceeded):
		what := fmt.Sprintf("timed out after %s", o.Timeout)
		if o.Timeout == 0 {
			what = "not met (--timeout=0 checks once)"
		}
		return exitcode.Newf(exitcode.Timeout, "%s; still waiting for: %s", what, pendingList(outcomes, o.refs))
	}
	return exitcode.New(exitcode.Failure, err)
}

func (o *WaitOptions) successLine(oc cluster.Outcome) string {
	subject := oc.Ref.String()
	if o.AllNamespaces {
		subject = oc.Ref.Namespace + "/" + subject // kubectl get -A puts the namespace first
	}
	switch {
	case o.cond == forDelete:
		return subject + " deleted"
	case oc.Check.Note != "":
		return subject + " healthy (" + oc.Check.Note + ")"
	}
	return subject + " healthy"
}

// pendingList says what was not done yet, with its last status, for timeout and interrupt.
func pendingList(outcomes []cluster.Outcome, refs []cluster.Ref) string {
	var parts []string
	for _, oc := range outcomes {
		if oc.Check.State == cluster.Done {
			continue
		}
		s := oc.Ref.String() + " (" + oc.Check.Status
		if oc.Check.Message != "" {
			s += ": " + firstLineOf(redact.String(oc.Check.Message))
		}
		parts = append(parts, s+")")
	}
	if len(parts) == 0 {
		if len(refs) == 0 {
			return "resources matching the selection (none found)"
		}
		for _, r := range refs {
			parts = append(parts, r.String())
		}
	}
	return strings.Join(parts, ", ")
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
