// Package kustomize is the kustomize generator of kubectl-atlas: a KRM function (kustomize's exec
// function mechanism, served by `kubectl atlas kustomize-fn`) that turns a migration directory or
// a schema file next to a kustomization into the objects `kubectl atlas init` would write for
// the same inputs, at `kustomize build` time.
//
// It builds them with internal/scaffold, the one code path behind init and configmap, and only
// adds kustomize's needs-hash annotation to the ConfigMaps: every change of the directory rolls
// out under a new ConfigMap name, and the nameReference configuration (scaffold.NameReferenceConfig,
// listed under `configurations:`) makes the Atlas resource follow that name through hashes,
// namePrefix/nameSuffix and overlays.
package kustomize

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The generator configs' API group is the project's own (that of its kubectl-atlas.io/ annotations).
const (
	Group      = "kubectl-atlas.io"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version

	KindMigrationGenerator = "AtlasMigrationGenerator"
	KindSchemaGenerator    = "AtlasSchemaGenerator"
)

// SecretKeyRef names a key of a Secret in the namespace of the generated objects.
type SecretKeyRef struct {
	Name string `json:"name"`
	// Key defaults to "url".
	Key string `json:"key,omitempty"`
}

// SecretSource has the shape of the operator's urlFrom / devURLFrom fields.
type SecretSource struct {
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// Target are the fields both generators share: where the database is and the sync wave.
type Target struct {
	// URLFrom is the Secret holding the target database URL (default <name>-db, key url).
	URLFrom *SecretSource `json:"urlFrom,omitempty"`
	// URL is an inline target URL; it is committed in clear text, so prefer URLFrom.
	URL string `json:"url,omitempty"`
	// DevURLFrom / DevURL point at a dev database; with neither the operator starts one.
	DevURLFrom *SecretSource `json:"devURLFrom,omitempty"`
	DevURL     string        `json:"devURL,omitempty"`
	// Wave is the Argo CD sync wave of the generated objects (default 1, as init's --schema-wave).
	Wave *int `json:"wave,omitempty"`
	// NoWaves leaves the sync-wave annotation out.
	NoWaves bool `json:"noWaves,omitempty"`
}

// MigrationGenerator is the functionConfig of kind AtlasMigrationGenerator: metadata.name names
// the AtlasMigration (its ConfigMap is <name>-migrations plus kustomize's hash), metadata.namespace,
// when set, is written on the objects.
type MigrationGenerator struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              MigrationGeneratorSpec `json:"spec"`
}

// MigrationGeneratorSpec are the inputs of init's --dir flow.
type MigrationGeneratorSpec struct {
	// Dir is the migration directory, relative to the kustomization directory and inside it.
	Dir string `json:"dir"`
	// Format is atlas, golang-migrate, goose, flyway, dbmate or liquibase; empty detects it.
	Format string `json:"format,omitempty"`
	// Baseline is the version the database is already at, as the source tool names it (goose
	// 42, Flyway 1.1): it becomes the AtlasMigration's spec.baseline, the converted file's version.
	Baseline string `json:"baseline,omitempty"`
	// DenyDestructive fails the build on statements that drop a schema, table or column.
	DenyDestructive bool `json:"denyDestructive,omitempty"`
	// LintDevURL is a dev database to lint the directory on with atlas's analyzers, as
	// `kubectl atlas lint` (every finding reported, destructive ones denied with
	// denyDestructive), instead of the offline destructive-statement check.
	LintDevURL string `json:"lintDevURL,omitempty"`
	Target     `json:",inline"`
}

// SchemaGenerator is the functionConfig of kind AtlasSchemaGenerator: metadata.name names the
// AtlasSchema.
type SchemaGenerator struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              SchemaGeneratorSpec `json:"spec"`
}

// SchemaGeneratorSpec are the inputs of init's --schema flow.
type SchemaGeneratorSpec struct {
	// Schema is the desired-state schema file (.sql or .hcl), relative to the kustomization
	// directory and inside it.
	Schema string `json:"schema"`
	// ConfigMap stores the schema in a hashed ConfigMap (<name>-schema) instead of inline.
	ConfigMap bool `json:"configMap,omitempty"`
	// DenyDestructive makes the operator refuse destructive plans.
	DenyDestructive bool `json:"denyDestructive,omitempty"`
	Target          `json:",inline"`
}
