// Package scaffold builds the Kubernetes objects of a GitOps folder for the Atlas Operator: the
// migrations ConfigMap and AtlasMigration (versioned flow), the AtlasSchema and its optional
// ConfigMap (declarative flow), a demo database, an application placeholder, Argo CD sync waves
// and an Argo CD Application.
//
// Build is the single code path behind `kubectl atlas init`, `kubectl atlas configmap` and the
// kustomize generator (kustomize/), so the same inputs give byte-identical objects whichever of
// them runs. Folder renders the files around the objects (kustomization.yaml, the nameReference
// configuration, the Argo CD folder) for `init`.
//
// Atlas resources are built from the operator's typed API structs, so field names are checked
// by the compiler, then converted to unstructured objects with empty fields pruned, so the output
// is what a person would write by hand and stays stable across operator versions.
package scaffold

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Annotations and labels that Build writes.
const (
	// NeedsHashAnnotation asks kustomize to append a content hash to a generated object's name
	// (and to rewrite references to it through the nameReference configuration).
	NeedsHashAnnotation = "kustomize.config.k8s.io/needs-hash"
	// ServerSideApplyOption is the Argo CD sync option a ConfigMap past 256 KiB needs: the
	// last-applied-configuration annotation of client-side apply cannot hold it.
	ServerSideApplyOption = "ServerSideApply=true"
	// PartOfLabel groups every object of one scaffold.
	PartOfLabel = "app.kubernetes.io/part-of"
	// ManagedByLabel says which tool wrote an object.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of ManagedByLabel.
	ManagedBy = "kubectl-atlas"
)

// Roles of the objects Build returns, in the order it returns them.
const (
	RoleDBSecret     = "db-secret"
	RoleDBService    = "db-service"
	RoleDBDeployment = "db-deployment"
	RoleConfigMap    = "configmap"
	RoleAtlas        = "atlas"
	RoleApp          = "app"
)

// Database engines of Options.WithDB.
const (
	DBMySQL    = "mysql"
	DBPostgres = "postgres"
)

// SecretRef names a key of a Secret in the namespace of the object that references it.
type SecretRef struct {
	Name string
	Key  string
}

// ParseSecretRef parses NAME[:KEY]; defaultKey is used when KEY is absent.
func ParseSecretRef(s, defaultKey string) (SecretRef, error) {
	name, key, found := strings.Cut(s, ":")
	if !found || key == "" {
		key = defaultKey
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return SecretRef{}, fmt.Errorf("secret name %q: %s", name, strings.Join(errs, "; "))
	}
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return SecretRef{}, fmt.Errorf("secret key %q: %s", key, strings.Join(errs, "; "))
	}
	return SecretRef{Name: name, Key: key}, nil
}

// SchemaFile is a desired-state schema file (declarative flow).
type SchemaFile struct {
	// FileName is the base name, ending in .sql or .hcl; it picks spec.schema.sql or .hcl and is
	// the ConfigMap key with SchemaConfigMap.
	FileName string
	Data     []byte
}

// RemoteDir is an Atlas Cloud migration directory.
type RemoteDir struct {
	Name string
	Tag  string
}

// Waves are the Argo CD sync waves of the three groups of objects.
type Waves struct {
	DB     int // demo database Secret, Service and Deployment
	Schema int // ConfigMap(s) and the Atlas resource
	App    int // application Deployment
}

// DefaultWaves orders database, schema, application.
var DefaultWaves = Waves{DB: 0, Schema: 1, App: 2}

// Options are the inputs of Build. Exactly one source is set: Dir or RemoteDir (versioned,
// AtlasMigration), Schema or SchemaURL (declarative, AtlasSchema).
type Options struct {
	// Name is the name of the Atlas resource; other objects derive theirs from it
	// (<name>-migrations, <name>-schema, <name>-db, <name>-app).
	Name string
	// Namespace is written on every object when set; otherwise objects carry none and the
	// namespace comes from kustomize, kubectl -n or Argo CD.
	Namespace string

	Dir       *migdir.Dir
	RemoteDir *RemoteDir
	// Baseline is the AtlasMigration's spec.baseline, an atlas version of Dir
	// (migdir.Dir.BaselineVersion maps the source tool's version): atlas starts after it on a
	// database the old tool already migrated.
	Baseline string
	Schema   *SchemaFile
	// SchemaConfigMap stores Schema in a ConfigMap (spec.schema.configMapKeyRef) instead of inline.
	SchemaConfigMap bool
	// SchemaURL is an atlas:// schema URL (Atlas Cloud schema registry).
	SchemaURL string
	// TokenSecret is the Atlas Cloud token (cloud.tokenFrom), for RemoteDir and SchemaURL.
	TokenSecret *SecretRef

	// URL is an inline target URL; prefer URLSecret. With neither, URLSecret defaults to
	// <name>-db:url (the demo database's Secret with WithDB).
	URL       string
	URLSecret *SecretRef
	// DevURL / DevURLSecret pass through; with neither the operator runs its own dev database.
	DevURL       string
	DevURLSecret *SecretRef

	// WithDB adds a demo database (mysql or postgres): Secret, Service, Deployment.
	WithDB string
	// DBPassword is the demo database password. Required with WithDB: the caller generates it
	// (or reuses the one already committed) so that Build itself stays deterministic.
	DBPassword string
	// WithApp adds an application Deployment placeholder running this image.
	WithApp string

	// Waves are the sync waves; nil means DefaultWaves.
	Waves *Waves
	// NoWaves leaves the sync-wave annotations out (plain kubectl users).
	NoWaves bool

	// DenyDestructive makes the operator refuse destructive plans of an AtlasSchema
	// (spec.policy.lint.destructive.error); for migration directories the caller checks
	// migdir.Dir.Destructive before building.
	DenyDestructive bool

	// ConfigMapNeedsHash marks migration ConfigMaps with kustomize's needs-hash annotation (the
	// kustomize generator sets it: every change of the directory then rolls out under a new
	// name). Its schema ConfigMap is then named <name>-schema and carries it too; without it
	// the name carries a content hash of its own (SchemaConfigMapName).
	ConfigMapNeedsHash bool
}

// Object is one built object and the file name `init` writes it to.
type Object struct {
	Role string
	File string
	*unstructured.Unstructured
}

// Notes are what Build wants the user to know (diagnostics of severity Info); they never
// change the objects.
type Notes = []diag.Diagnostic

// The codes of Build's notes that call for a fix, which each entry point phrases in its own
// words (a flag for init, a spec field for the kustomize generator); the library names neither.
// A note without a code needs no action.
const (
	// NoteNeedsToken: the objects reach Atlas Cloud and no token Secret was given.
	NoteNeedsToken = "needs-token"
	// NoteInlinePassword: the database URL, password included, is written into the objects.
	NoteInlinePassword = "inline-password"
	// NoteDefaultNamespace: no namespace was given and the demo database URL assumes "default".
	NoteDefaultNamespace = "default-namespace"
)

func (b *builder) note(code string, format string, args ...any) {
	b.notes = append(b.notes, diag.Diagnostic{Severity: diag.Info, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Result is what Build returns.
type Result struct {
	// Objects in a deterministic order: database, ConfigMaps, Atlas resource, application.
	Objects []Object
	Notes   Notes
}

// Unstructured returns the bare objects, in order.
func (r *Result) Unstructured() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(r.Objects))
	for i, o := range r.Objects {
		out[i] = o.Unstructured
	}
	return out
}

// MigrationsConfigMapName is the ConfigMap a migration directory is packed into.
func MigrationsConfigMapName(name string) string { return name + "-migrations" }

// SchemaConfigMapName is the ConfigMap a schema file is stored in: <name>-schema-<first 10 hex
// digits of the content's sha256>, so that a changed schema is a changed AtlasSchema spec.
func SchemaConfigMapName(name string, schema []byte) string {
	sum := sha256.Sum256(schema)
	return name + "-schema-" + hex.EncodeToString(sum[:5])
}
func DBName(name string) string  { return name + "-db" }
func AppName(name string) string { return name + "-app" }

// Validate checks the options without building anything. Errors name the flag-level input.
func (o *Options) Validate() error {
	if o.Name == "" {
		return errors.New("a name is required")
	}
	// <name>-db must be a DNS-1035 label (Service name), so <name> must leave room for it.
	if errs := validation.IsDNS1035Label(o.Name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s (use lower-case letters, digits and '-', starting with a letter)", o.Name, strings.Join(errs, "; "))
	}
	if len(o.Name) > validation.DNS1035LabelMaxLength-len("-migrations") {
		return fmt.Errorf("name %q is too long: at most %d characters, so that derived names such as %q stay valid", o.Name, validation.DNS1035LabelMaxLength-len("-migrations"), MigrationsConfigMapName(o.Name))
	}
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	n := 0
	for _, set := range []bool{o.Dir != nil, o.RemoteDir != nil, o.Schema != nil, o.SchemaURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("exactly one source is needed: a migration directory, a remote directory, a schema file or a schema URL")
	}
	if o.RemoteDir != nil && (o.RemoteDir.Name == "") {
		return errors.New("a remote directory needs a name")
	}
	if o.SchemaURL != "" && !strings.HasPrefix(o.SchemaURL, "atlas://") {
		return fmt.Errorf("schema URL %q: the operator accepts only atlas:// URLs here; use a schema file for anything else", redact.String(o.SchemaURL))
	}
	if o.Schema != nil {
		switch path.Ext(o.Schema.FileName) {
		case ".sql", ".hcl":
		default:
			return fmt.Errorf("schema file %q must end in .sql or .hcl", o.Schema.FileName)
		}
		if errs := validation.IsConfigMapKey(o.Schema.FileName); len(errs) > 0 {
			return fmt.Errorf("schema file name %q is not a valid ConfigMap key: %s; rename the file", o.Schema.FileName, strings.Join(errs, "; "))
		}
	} else if o.SchemaConfigMap {
		return errors.New("a schema ConfigMap needs a schema file")
	}
	if o.URL != "" && o.URLSecret != nil {
		return errors.New("give the database URL either inline or as a Secret reference, not both")
	}
	if o.DevURL != "" && o.DevURLSecret != nil {
		return errors.New("give the dev database URL either inline or as a Secret reference, not both")
	}
	switch o.WithDB {
	case "":
	case DBMySQL, DBPostgres:
		if o.DBPassword == "" {
			return errors.New("a demo database needs a password")
		}
		if o.URL != "" {
			return errors.New("a demo database comes with its own URL Secret: drop the inline URL")
		}
	default:
		return fmt.Errorf("database %q: use mysql or postgres", o.WithDB)
	}
	if o.WithApp != "" && strings.ContainsAny(o.WithApp, " \t\n") {
		return fmt.Errorf("image %q contains white space", o.WithApp)
	}
	return nil
}

func (o *Options) waves() Waves {
	if o.Waves == nil {
		return DefaultWaves
	}
	return *o.Waves
}

// urlSecret is the Secret reference of the target database, defaulted.
func (o *Options) urlSecret() *SecretRef {
	if o.URL != "" {
		return nil
	}
	if o.URLSecret != nil {
		return o.URLSecret
	}
	return &SecretRef{Name: DBName(o.Name), Key: "url"}
}

// Build returns the objects for opts in a deterministic order.
func Build(opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	b := &builder{opts: opts, waves: opts.waves()}
	if opts.WithDB != "" {
		if err := b.database(); err != nil {
			return nil, err
		}
	}
	var err error
	switch {
	case opts.Dir != nil || opts.RemoteDir != nil:
		err = b.migration()
	default:
		err = b.schema()
	}
	if err != nil {
		return nil, err
	}
	if opts.WithApp != "" {
		if err := b.app(); err != nil {
			return nil, err
		}
	}
	if opts.URL != "" && urlHasPassword(opts.URL) {
		b.note(NoteInlinePassword, "the inline database URL holds a password and will be committed in clear text")
	}
	return &Result{Objects: b.objs, Notes: b.notes}, nil
}

type builder struct {
	opts  Options
	waves Waves
	objs  []Object
	notes Notes
}

// add finishes an object (namespace, labels, wave) and appends it.
func (b *builder) add(role, file string, u *unstructured.Unstructured, wave int) {
	if b.opts.Namespace != "" {
		u.SetNamespace(b.opts.Namespace)
	}
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[PartOfLabel] = b.opts.Name
	labels[ManagedByLabel] = ManagedBy
	u.SetLabels(labels)
	if !b.opts.NoWaves {
		setAnnotation(u, atlas.SyncWaveAnnotation, strconv.Itoa(wave))
	}
	b.objs = append(b.objs, Object{Role: role, File: file, Unstructured: u})
}

func setAnnotation(u *unstructured.Unstructured, k, v string) {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	u.SetAnnotations(a)
}
