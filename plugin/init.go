package plugin

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

const initLong = `Scaffold a GitOps folder for the Atlas Operator, ready to commit, or print the same objects
as one YAML stream (-o yaml).

Flows (pick one source):
  versioned     --dir DIR            the migrations ConfigMap + an AtlasMigration that reads it
                --remote-dir NAME    an AtlasMigration on an Atlas Cloud directory (--tag, --token-secret)
  declarative   --schema FILE        an AtlasSchema with the schema inline, or in a ConfigMap
                                     with --schema-configmap (.sql or .hcl)
                --schema-url URL     an AtlasSchema on an atlas:// schema (--token-secret)

The target database is a Secret reference (urlFrom) by default: --url-secret NAME[:KEY]
(default <name>-db:url). An inline --url is written only when asked, with a warning if it holds a
password. --with-db mysql|postgres adds a demo database (Deployment, Service, Secret with a random
password, kept when the folder is regenerated); --with-app IMAGE adds an application Deployment.

Every object carries an Argo CD sync wave: database (--db-wave, 0), schema (--schema-wave, 1),
application (--app-wave, 2). ConfigMaps share the wave of the resource that reads them. The
AtlasMigration records the newest migration version in the kubectl-atlas.io/target-version
annotation, so the health check and 'kubectl atlas wait' can tell a stale Ready from a fresh one.

The folder holds one file per object, kustomization.yaml and kustomizeconfig.yaml (so hashed or
prefixed ConfigMap and Secret names are followed into the Atlas resources). --argocd-app adds
argocd/: an Application with automated sync, self-heal, prune and retry, and the Atlas health
checks as a kustomize Component for the kustomization that installs Argo CD.

Other tools' directories are converted as 'configmap' does; --baseline VERSION (the source tool's
version the database is at) sets the AtlasMigration's spec.baseline to the converted file's version.
Flyway repeatables and Liquibase runOnChange changesets are named after their checksum, so an
edit runs again; the AtlasMigration then gets execOrder: non-linear. Their earlier versions and
a change marker come from kubectl-atlas.ledger in --dir, which init extends when the directory
changed (stderr says so: commit it with the migrations; --write-ledger=false only reads it and
fails instead), so the Atlas Operator applies every change and stays Ready (docs/init.md). Beside
it, --dir's .gitattributes gets "kubectl-atlas.ledger merge=union" (stderr says so; commit it):
Git then merges two branches' ledgers as the union of their lines; run init or configmap on the
merged tree and commit what it records.

Statements that drop a schema, a table or a column (DS101, DS102, DS103) are reported with
file:line on stderr; --deny-destructive makes them an error. That offline check reads statements
as text; --lint-dev-url runs atlas's analyzers on a dev database instead (as 'kubectl atlas
lint': every finding is reported, destructive ones are denied).

Output is deterministic. Existing files are not overwritten without --force, and the folder is
written atomically: after a failure nothing is left half-written.

Exit codes: 0 success, 1 invalid input, destructive change denied or write failed, 2 usage error.`

const initExample = `  # Versioned flow with a demo MySQL and an app, into ./atlas
  kubectl atlas init --dir ./migrations --name myapp --with-db mysql --with-app ghcr.io/acme/app:1.0

  # Declarative flow, schema in a ConfigMap, Argo CD Application
  kubectl atlas init --schema schema.sql --schema-configmap --name myapp \
    --argocd-app --repo-url https://github.com/acme/deploy.git --path atlas

  # Just the objects, for a pipe
  kubectl atlas init --dir ./migrations --name myapp --url-secret db-creds:url -o yaml`

// InitOptions scaffolds a GitOps folder.
type InitOptions struct {
	Name   string
	OutDir string
	// Output "" writes the folder; "yaml" prints the objects.
	Output string
	Force  bool

	Dir             string
	Format          string
	Hash            bool
	WriteLedger     bool
	Baseline        string
	RemoteDir       string
	Tag             string
	Schema          string
	SchemaConfigMap bool
	SchemaURL       string
	TokenSecret     string

	URL          string
	URLSecret    string
	DevURL       string
	DevURLSecret string

	WithDB  string
	WithApp string

	DBWave, SchemaWave, AppWave int

	ArgoCDApp bool
	RepoURL   string
	Revision  string
	Path      string

	DenyDestructive bool
	// LintDevURL runs atlas's analyzers on this dev database instead of the offline check.
	LintDevURL string

	ctx         context.Context
	namespace   string
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// NewCmdInit returns the init command.
func NewCmdInit(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &InitOptions{IOStreams: streams, configFlags: configFlags}
	cmd := &cobra.Command{
		Use:     "init (--dir DIR | --remote-dir NAME | --schema FILE | --schema-url URL) --name NAME [flags]",
		Short:   "Scaffold a GitOps folder: Secret reference, ConfigMap, AtlasMigration/AtlasSchema, sync waves, Argo CD",
		Long:    initLong,
		Example: initExample,
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
	f.StringVar(&o.Name, "name", "", "Name of the Atlas resource; other objects derive theirs from it (required)")
	f.StringVar(&o.OutDir, "out", "atlas", "Folder to write")
	f.StringVarP(&o.Output, "output", "o", "", "Print the objects instead of writing a folder: yaml")
	f.BoolVar(&o.Force, "force", false, "Overwrite existing files in --out")

	f.StringVar(&o.Dir, "dir", "", "Migration directory (versioned flow)")
	f.StringVar(&o.Format, "format", "", "Format of --dir: "+strings.Join(migdir.Formats, ", ")+" (default: detected)")
	f.BoolVar(&o.Hash, "hash", false, "Compute atlas.sum instead of validating the one in --dir")
	f.BoolVar(&o.WriteLedger, "write-ledger", true, writeLedgerUsage)
	f.StringVar(&o.Baseline, "baseline", "", "Version the database is already at, as the source tool names it (e.g. 42, Flyway 1.1): set as the AtlasMigration's spec.baseline (the converted file's version)")
	f.StringVar(&o.RemoteDir, "remote-dir", "", "Atlas Cloud migration directory name (versioned flow)")
	f.StringVar(&o.Tag, "tag", "", "Tag of --remote-dir")
	f.StringVar(&o.Schema, "schema", "", "Desired-state schema file, .sql or .hcl (declarative flow)")
	f.BoolVar(&o.SchemaConfigMap, "schema-configmap", false, "Store --schema in a ConfigMap instead of inline")
	f.StringVar(&o.SchemaURL, "schema-url", "", "atlas:// schema URL (declarative flow)")
	f.StringVar(&o.TokenSecret, "token-secret", "", "Atlas Cloud token Secret, NAME[:KEY] (key default: token)")

	f.StringVar(&o.URL, "url", "", "Inline target database URL (prefer --url-secret)")
	f.StringVar(&o.URLSecret, "url-secret", "", "Secret holding the target database URL, NAME[:KEY] (default <name>-db:url)")
	f.StringVar(&o.DevURL, "dev-url", "", "Dev database URL (default: the operator starts one)")
	f.StringVar(&o.DevURLSecret, "dev-url-secret", "", "Secret holding the dev database URL, NAME[:KEY]")

	f.StringVar(&o.WithDB, "with-db", "", "Add a demo database: mysql or postgres")
	f.StringVar(&o.WithApp, "with-app", "", "Add an application Deployment running this image")

	f.IntVar(&o.DBWave, "db-wave", scaffold.DefaultWaves.DB, "Argo CD sync wave of the database")
	f.IntVar(&o.SchemaWave, "schema-wave", scaffold.DefaultWaves.Schema, "Argo CD sync wave of the ConfigMap and Atlas resource")
	f.IntVar(&o.AppWave, "app-wave", scaffold.DefaultWaves.App, "Argo CD sync wave of the application")

	f.BoolVar(&o.ArgoCDApp, "argocd-app", false, "Add an Argo CD Application and the health-check Component under argocd/")
	f.StringVar(&o.RepoURL, "repo-url", "", "Git repository of the Application (with --argocd-app)")
	f.StringVar(&o.Revision, "revision", "HEAD", "Git revision of the Application")
	f.StringVar(&o.Path, "path", "", "Path of the folder in the repository (default: --out)")

	f.StringVar(&o.LintDevURL, "lint-dev-url", "", lintDevURLUsage)
	f.BoolVar(&o.DenyDestructive, "deny-destructive", false, "Fail on statements that drop a schema, table or column (AtlasSchema: make the operator refuse them)")

	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(migdir.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("with-db", cobra.FixedCompletions([]string{scaffold.DBMySQL, scaffold.DBPostgres}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagFilename("schema", "sql", "hcl")
	return cmd
}

// Complete takes the namespace from -n only when given (objects then carry it).
func (o *InitOptions) Complete(cmd *cobra.Command) error {
	if fl := cmd.Flags().Lookup("namespace"); fl != nil && fl.Changed && o.configFlags.Namespace != nil {
		o.namespace = *o.configFlags.Namespace
	}
	if o.Path == "" {
		o.Path = filepath.ToSlash(filepath.Clean(o.OutDir))
	}
	registerURLs(redact.For(o.ErrOut), o.URL, o.DevURL, o.SchemaURL, o.RepoURL, o.LintDevURL)
	o.ctx = cmd.Context()
	return nil
}

// Validate checks flag combinations; the scaffold validates the rest when building.
func (o *InitOptions) Validate() error {
	if o.Name == "" {
		return exitcode.UsageErrorf("--name is required: the name of the AtlasMigration or AtlasSchema")
	}
	n := 0
	for _, s := range []string{o.Dir, o.RemoteDir, o.Schema, o.SchemaURL} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return exitcode.UsageErrorf("give exactly one of --dir, --remote-dir, --schema or --schema-url")
	}
	if o.Dir == "" && (o.Format != "" || o.Hash || o.Baseline != "") {
		return exitcode.UsageErrorf("--format, --hash and --baseline apply to --dir only")
	}
	if o.RemoteDir == "" && o.Tag != "" {
		return exitcode.UsageErrorf("--tag applies to --remote-dir only")
	}
	if o.Schema == "" && o.SchemaConfigMap {
		return exitcode.UsageErrorf("--schema-configmap needs --schema")
	}
	if o.TokenSecret != "" && o.RemoteDir == "" && o.SchemaURL == "" {
		return exitcode.UsageErrorf("--token-secret applies to --remote-dir and --schema-url only")
	}
	if err := validateFormat(o.Format); err != nil {
		return err
	}
	switch o.Output {
	case "", "yaml":
	default:
		return exitcode.UsageErrorf("--output must be yaml (or absent to write --out), not %q", o.Output)
	}
	switch o.WithDB {
	case "", scaffold.DBMySQL, scaffold.DBPostgres:
	default:
		return exitcode.UsageErrorf("--with-db must be mysql or postgres, not %q", o.WithDB)
	}
	if o.URL != "" && o.URLSecret != "" {
		return exitcode.UsageErrorf("give --url or --url-secret, not both")
	}
	if o.URL != "" && o.WithDB != "" {
		return exitcode.UsageErrorf("--with-db brings its own URL Secret: drop --url")
	}
	if o.DevURL != "" && o.DevURLSecret != "" {
		return exitcode.UsageErrorf("give --dev-url or --dev-url-secret, not both")
	}
	if o.ArgoCDApp && o.RepoURL == "" {
		return exitcode.UsageErrorf("--argocd-app needs --repo-url, the Git repository Argo CD syncs from")
	}
	if !o.ArgoCDApp && o.RepoURL != "" {
		return exitcode.UsageErrorf("--repo-url applies to --argocd-app only")
	}
	if o.ArgoCDApp && o.Output != "" {
		return exitcode.UsageErrorf("--argocd-app writes a folder (the Application and the argocd-cm patch): drop -o")
	}
	return validateObjectName("--name", o.Name)
}

// Run builds the objects and writes the folder or prints them.
func (o *InitOptions) Run() error {
	req, err := o.request()
	if err != nil {
		return err
	}
	res, err := generate.Generate(*req)
	for _, d := range res.Diagnostics {
		fmt.Fprintln(o.ErrOut, cliTerms.Phrase(d))
	}
	if err != nil {
		return withFlagFix(err)
	}
	if res.Dir != nil {
		if err := recordLedger(o.ErrOut, o.Dir, res.Dir, o.WriteLedger); err != nil {
			return err
		}
	}
	if repo, hadCreds := withoutCredentials(o.RepoURL); o.ArgoCDApp && hadCreds {
		fmt.Fprintln(o.ErrOut, "note: --repo-url carries credentials: they are left out of the Application (it is committed to Git); give Argo CD the repository's credentials as a repository Secret (argocd repo add "+repo+" ...)")
	}
	if o.Output == "yaml" {
		b, err := scaffold.Stream(res.Unstructured())
		if err != nil {
			return err
		}
		// the manifests, byte for byte: an inline --url and the demo password are what was asked for
		_, err = redact.Payload(o.Out).Write(b)
		return err
	}
	out := make([]fsutil.File, len(res.Files))
	for i, f := range res.Files {
		out[i] = fsutil.File{Path: f.Path, Data: f.Data}
	}
	if err := fsutil.WriteFolder(o.OutDir, out, o.Force); err != nil {
		return withFlagFix(err)
	}
	o.summary(res.Objects, res.Files)
	return nil
}

// request turns flags into a generation request.
func (o *InitOptions) request() (*generate.Request, error) {
	opts := scaffold.Options{
		Name:            o.Name,
		Namespace:       o.namespace,
		URL:             o.URL,
		DevURL:          o.DevURL,
		WithDB:          o.WithDB,
		WithApp:         o.WithApp,
		SchemaConfigMap: o.SchemaConfigMap,
		SchemaURL:       o.SchemaURL,
		Waves:           &scaffold.Waves{DB: o.DBWave, Schema: o.SchemaWave, App: o.AppWave},
		DenyDestructive: o.DenyDestructive,
	}
	var err error
	ref := func(flag, s, key string) (*scaffold.SecretRef, error) {
		if s == "" {
			return nil, nil
		}
		r, err := scaffold.ParseSecretRef(s, key)
		if err != nil {
			return nil, exitcode.UsageErrorf("%s: %v", flag, err)
		}
		return &r, nil
	}
	if opts.URLSecret, err = ref("--url-secret", o.URLSecret, "url"); err != nil {
		return nil, err
	}
	if opts.DevURLSecret, err = ref("--dev-url-secret", o.DevURLSecret, "url"); err != nil {
		return nil, err
	}
	if opts.TokenSecret, err = ref("--token-secret", o.TokenSecret, "token"); err != nil {
		return nil, err
	}
	if o.RemoteDir != "" {
		opts.RemoteDir = &scaffold.RemoteDir{Name: o.RemoteDir, Tag: o.Tag}
	}
	if o.WithDB != "" {
		if opts.DBPassword, err = o.dbPassword(); err != nil {
			return nil, err
		}
	}
	req := &generate.Request{Options: opts, Dir: o.Dir, Read: migdir.Options{Format: o.Format, Hash: o.Hash},
		Baseline: o.Baseline, Schema: o.Schema, Folder: o.Output == ""}
	if o.LintDevURL != "" && o.Dir != "" {
		req.Lint = generate.LintWith(o.ctx, o.LintDevURL)
	}
	if o.ArgoCDApp {
		repo, _ := withoutCredentials(o.RepoURL)
		req.Application = &scaffold.ArgoCDOptions{Name: o.Name, RepoURL: repo, Revision: o.Revision, Path: o.Path, DestNamespace: o.namespace}
	}
	return req, nil
}

// dbPassword reuses the password of a demo database Secret already in --out, so regenerating
// the folder gives no diff; otherwise it generates a random one.
func (o *InitOptions) dbPassword() (string, error) {
	if o.Output == "" {
		if b, err := os.ReadFile(filepath.Join(o.OutDir, "db-secret.yaml")); err == nil {
			var s struct {
				StringData map[string]string `json:"stringData"`
			}
			if yaml.Unmarshal(b, &s) == nil && s.StringData["password"] != "" {
				return s.StringData["password"], nil
			}
		}
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for range 24 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String(), nil
}

// summary prints what was written and what to run next.
func (o *InitOptions) summary(objs []scaffold.Object, files []scaffold.File) {
	fmt.Fprintf(o.Out, "Wrote %d files to %s/:\n", len(files), filepath.Clean(o.OutDir))
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	byFile := map[string]string{}
	for _, obj := range objs {
		byFile[obj.File] = fmt.Sprintf("%s %s (wave %s)", obj.GetKind(), obj.GetName(), scaffold.WaveOf(obj.Unstructured))
	}
	for _, f := range files {
		desc := byFile[f.Path]
		if desc == "" {
			desc = map[string]string{
				scaffold.KustomizationFile:   "kustomize entry point",
				scaffold.NameReferenceFile:   "kustomize nameReference for Atlas resources",
				scaffold.ArgoCDAppFile:       "Argo CD Application",
				scaffold.ArgoCDHealthFile:    "argocd-cm patch: Atlas health checks",
				scaffold.ArgoCDComponentFile: "kustomize Component for your Argo CD install",
			}[f.Path]
		}
		fmt.Fprintf(tw, "  %s\t%s\n", f.Path, desc)
	}
	_ = tw.Flush()
	out := filepath.Clean(o.OutDir)
	fmt.Fprintln(o.Out, "\nNext:")
	fmt.Fprintf(o.Out, "  kubectl kustomize %s                 # review\n", out)
	if o.ArgoCDApp {
		repo, _ := withoutCredentials(o.RepoURL)
		fmt.Fprintf(o.Out, "  git add %s && git commit && git push   # Argo CD syncs from %s\n", out, repo)
		fmt.Fprintf(o.Out, "  kubectl apply -f %s/%s   # once; add %s/%s to Argo CD's kustomization as a component\n", out, scaffold.ArgoCDAppFile, out, scaffold.ArgoCDDir)
	} else {
		fmt.Fprintf(o.Out, "  kubectl apply --server-side -k %s   # or commit it for Argo CD\n", out)
	}
	fmt.Fprintf(o.Out, "  kubectl atlas wait %s/%s\n", strings.ToLower(objs[atlasIndex(objs)].GetKind()), o.Name)
}

func atlasIndex(objs []scaffold.Object) int {
	for i, obj := range objs {
		if obj.Role == scaffold.RoleAtlas {
			return i
		}
	}
	return 0
}

// withoutCredentials drops the userinfo of an http(s) or ssh URL and the query parameters that
// name a secret (token=...): Argo CD matches a repository Secret's credentials to the URL
// without them. scp-like git@host:path URLs and ssh://git@host user names are kept.
func withoutCredentials(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw, false
	}
	changed := false
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || u.Scheme != "ssh" {
			u.User, changed = nil, true
		}
	}
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			if redact.SecretKey(k) {
				q.Del(k)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw, false
	}
	return u.String(), true
}
