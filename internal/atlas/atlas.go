// Package atlas names the Atlas Operator's API (group, kinds, resources) and the annotations
// that kubectl-atlas and Argo CD put on objects, so every package spells them the same way.
package atlas

import "k8s.io/apimachinery/pkg/runtime/schema"

// The operator's API group and version.
const (
	Group   = "db.atlasgo.io"
	Version = "v1alpha1"

	KindAtlasMigration = "AtlasMigration"
	KindAtlasSchema    = "AtlasSchema"
)

// GVRs of the two kinds.
var (
	MigrationGVR = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "atlasmigrations"}
	SchemaGVR    = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "atlasschemas"}
	MigrationGVK = schema.GroupVersionKind{Group: Group, Version: Version, Kind: KindAtlasMigration}
	SchemaGVK    = schema.GroupVersionKind{Group: Group, Version: Version, Kind: KindAtlasSchema}
)

// AnnotationPrefix is the project's own annotation prefix.
const AnnotationPrefix = "kubectl-atlas.io/"

// TargetVersionAnnotation, written by `init` on an AtlasMigration, holds the newest migration
// version of its directory. The health check compares it with status.lastAppliedVersion so a
// Ready=True left over from before a ConfigMap edit reads Progressing, not Healthy.
const TargetVersionAnnotation = AnnotationPrefix + "target-version"

// Argo CD annotations.
const (
	SyncWaveAnnotation    = "argocd.argoproj.io/sync-wave"
	SyncOptionsAnnotation = "argocd.argoproj.io/sync-options"
	HookAnnotation        = "argocd.argoproj.io/hook"
	HelmHookAnnotation    = "helm.sh/hook"
	HelmHookWeight        = "helm.sh/hook-weight"
)

// FieldManager is the server-side apply field manager of `kubectl atlas apply`.
const FieldManager = "kubectl-atlas"
