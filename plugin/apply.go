package plugin

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/apply"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/progress"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

const applyLong = `Server-side apply a GitOps folder in Argo CD's sync order, waiting for health between waves.

Objects are ordered as an Argo CD v3 sync orders them: phase, sync wave, kind (Namespaces, ...,
ConfigMaps, CRDs, ..., Deployments, ..., custom resources last) and name, with each Namespace
and CRD moved ahead of the first object that needs it.
  phase  argocd.argoproj.io/hook, a comma list: PreSync, Sync, PostSync, SyncFail (one hook may
         run in several phases; unknown values are ignored). Skip alone leaves the object out
         ("PreSync,Skip" runs in PreSync). Without it, helm.sh/hook: pre-install/pre-upgrade
         run in PreSync, post-install/post-upgrade in PostSync, crd-install is an ordinary
         object, other Helm hooks (test, pre-rollback, ...) are left out.
  wave   argocd.argoproj.io/sync-wave as an integer exactly as written, else helm.sh/hook-weight,
         else 0; a value that is not an integer (" 1", "1.5") counts as absent, as in Argo CD.
Each group is applied with server-side apply (field manager kubectl-atlas). Before the next
group starts, every object of the group must be healthy as Argo CD judges it: AtlasSchema and
AtlasMigration by the project's health check, Deployment, StatefulSet, DaemonSet, ReplicaSet,
Job, Pod, PVC, Service, Ingress, HPA and APIService by Argo CD's built-in rules, CronJob and
CustomResourceDefinition by the scripts Argo CD ships, and kinds without a health check
(ConfigMap, Secret, ...) at once; an object being deleted is Progressing. A Degraded object
stops the apply with its message; objects of earlier waves stay applied. Like Argo CD, the last wave is not waited
for unless --wait is given. SyncFail hooks are applied only when the apply fails.

What it does not do that an Argo CD sync does:
  - prune: objects missing from the folder are never deleted;
  - deletion hooks: PreDelete and PostDelete (argocd.argoproj.io/hook or helm.sh/hook
    pre-delete/post-delete) are left out, as Argo CD keeps them for deleting the Application;
  - hook lifecycle: hook-delete-policy and helm.sh/hook-delete-policy are not acted on (hooks are
    not deleted before or after they run) and hooks get no finalizer; metadata.generateName is
    refused;
  - sync options (argocd.argoproj.io/sync-options): none is read. Every object is server-side
    applied, as with ServerSideApply=true; Replace=true, Force=true, Prune=..., Delete=...,
    Validate=false, PruneLast=true, SkipDryRunOnMissingResource=true, ApplyOutOfSyncOnly=true
    and CreateNamespace=true have no effect.
Every object left out is listed with the reason.

Unknown kinds (a CRD that is not installed), invalid YAML, namespaces that contradict -n and
duplicate objects are reported, with file and line, before anything is applied.

Exit codes:
  0    applied (and healthy where waited for)
  1    error (invalid input, unknown kind, conflict with another field manager, RBAC, API error)
  2    usage error
  3    an object is Degraded
  4    --timeout expired (while waiting for health or inside an API request), or with
       --timeout 0 a wave was not healthy at the first check
  130  interrupted (Ctrl-C)`

const applyExample = `  # Apply a folder (its .yaml, .yml and .json files) in sync-wave order
  kubectl atlas apply -f deploy/

  # Build a kustomization first, and wait for the last wave too
  kubectl atlas apply -k overlays/prod --wait --timeout 15m

  # What would be applied, in which order
  kubectl atlas apply -f deploy/ --dry-run=client`

// ApplyOptions implements `kubectl atlas apply`.
type ApplyOptions struct {
	configFlags *genericclioptions.ConfigFlags

	Files          []string
	Kustomization  string
	DryRun         string
	Timeout        time.Duration
	Wait           bool
	ForceConflicts bool

	objs   []*apply.Object
	client *cluster.Client

	genericiooptions.IOStreams
}

// NewCmdApply returns the apply command.
func NewCmdApply(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ApplyOptions{configFlags: configFlags, IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "apply (-f FILE|DIR|- ... | -k DIR) [--dry-run=server|client] [--timeout D] [--wait]",
		Short:   "Server-side apply manifests in Argo CD sync-wave order, waiting for health between waves",
		Long:    applyLong,
		Example: applyExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVarP(&o.Files, "filename", "f", nil, "Manifest file, directory (not recursive) or - for stdin; repeatable")
	cmd.Flags().StringVarP(&o.Kustomization, "kustomize", "k", "", "Build this kustomization directory first (as kustomize build does)")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", "none", "none, server (the API server validates, nothing is stored) or client (print the plan only)")
	cmd.Flags().Lookup("dry-run").NoOptDefVal = apply.DryRunClient
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "Limit on the whole apply, waits included; 0 checks each wave's health once without waiting, a negative value means no limit")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Also wait until the objects of the last wave are healthy")
	cmd.Flags().BoolVar(&o.ForceConflicts, "force-conflicts", false, "Take over fields owned by other field managers")
	return cmd
}

// Validate checks the flags.
func (o *ApplyOptions) Validate() error {
	switch {
	case len(o.Files) == 0 && o.Kustomization == "":
		return exitcode.UsageErrorf("give the manifests with -f FILE|DIR|- or -k DIR")
	case len(o.Files) > 0 && o.Kustomization != "":
		return exitcode.UsageErrorf("use either -f or -k, not both")
	}
	switch o.DryRun {
	case "none":
		o.DryRun = apply.DryRunNone
	case apply.DryRunNone, apply.DryRunServer, apply.DryRunClient:
	default:
		return exitcode.UsageErrorf("--dry-run must be none, server or client, not %q", o.DryRun)
	}
	if o.DryRun != apply.DryRunNone && o.Wait {
		return exitcode.UsageErrorf("--wait cannot wait for a dry run")
	}
	return nil
}

// Complete builds the client.
func (o *ApplyOptions) Complete() error {
	var err error
	o.client, err = cluster.New(o.configFlags)
	return err
}

// load reads the manifests (-f or -k) and registers the secrets they carry.
func (o *ApplyOptions) load() error {
	var err error
	if o.Kustomization != "" {
		registerKustomizationURLs(redact.For(o.ErrOut), o.Kustomization)
		o.objs, err = apply.LoadKustomization(o.Kustomization)
	} else {
		o.objs, err = apply.LoadFiles(o.Files, o.In)
	}
	r := redact.For(o.ErrOut)
	for _, obj := range o.objs {
		registerObjectSecrets(r, obj.Obj.Object)
	}
	if err != nil {
		return exitcode.New(exitcode.Failure, err)
	}
	if len(o.objs) == 0 {
		return exitcode.Newf(exitcode.Failure, "no objects to apply in %v", append(o.Files, o.Kustomization))
	}
	return nil
}

// Run applies.
func (o *ApplyOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := o.load(); err != nil {
		return err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	mapper, err := o.client.RESTMapper()
	if err != nil {
		return exitcode.New(exitcode.Failure, fmt.Errorf("discovering the cluster's kinds: %w", cluster.Redacted(err)))
	}
	sum, err := apply.Run(ctx, o.client, o.objs, mapper, apply.Options{
		DryRun:   o.DryRun,
		Wait:     o.Wait,
		Once:     o.Timeout == 0,
		Force:    o.ForceConflicts,
		Out:      o.Out,
		Progress: progress.New(o.ErrOut),
	})
	if err != nil {
		return err
	}
	what := "applied"
	if o.DryRun != apply.DryRunNone {
		what = "would apply (" + o.DryRun + " dry run)"
	}
	_, err = fmt.Fprintf(o.Out, "%s %d object(s) in %d wave(s); waited for %d to become healthy; %s\n",
		what, sum.Applied, sum.Groups, sum.Waited, sum.Took.Round(time.Millisecond))
	return err
}

// registerKustomizationURLs tells r the credentials in the URLs of the kustomization
// files below dir (remote bases: https://TOKEN@github.com/...), which kustomize's errors quote.
func registerKustomizationURLs(r *redact.Redactor, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			if b, err := os.ReadFile(p); err == nil {
				registerURLs(r, urlsIn(string(b))...)
			}
		}
		return nil
	})
}

// urlsIn finds the scheme://...@... words of a text.
func urlsIn(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '"' || r == '\'' }) {
		if strings.Contains(w, "://") && strings.Contains(w, "@") {
			out = append(out, w)
		}
	}
	return out
}
