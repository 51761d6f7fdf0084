// Package healthcheck holds the Argo CD Lua health checks for Atlas resources (one embedded
// .lua file per kind), the one evaluator every verb uses, the generator of argocd-cm / Helm /
// kustomize outputs and the health_test.yaml runner.
package healthcheck

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// HealthStatus is Argo CD's health status word.
type HealthStatus string

// Argo CD's health statuses (case-sensitive, as Argo CD checks them).
const (
	Healthy     HealthStatus = "Healthy"
	Progressing HealthStatus = "Progressing"
	Degraded    HealthStatus = "Degraded"
	Suspended   HealthStatus = "Suspended"
	Missing     HealthStatus = "Missing"
	Unknown     HealthStatus = "Unknown"
)

// Result is a health verdict as Argo CD stores it.
type Result struct {
	Status  HealthStatus `json:"status"`
	Message string       `json:"message,omitempty"`
}

// Evaluate judges an Atlas object with the project's own scripts, exactly as Argo CD would with
// them in argocd-cm. ok is false when no script covers the object's group/kind. Safe for
// concurrent use.
//
// TODO(issue 3): placeholder until the Lua scripts and VM land.
func Evaluate(obj *unstructured.Unstructured) (res Result, ok bool, err error) {
	return Result{Status: Unknown, Message: "health scripts not built yet"}, false, nil
}

// Output formats of Render (and `kubectl atlas healthcheck generate --format`).
const (
	FormatArgoCDConfigMap = "argocd-cm" // an argocd-cm ConfigMap with split keys (default)
	FormatLegacy          = "legacy"    // argocd-cm with the nested resource.customizations blob
	FormatHelm            = "helm"      // argo-cd Helm chart values (configs.cm)
	FormatKustomize       = "kustomize" // a strategic-merge patch for argocd-cm
	FormatLua             = "lua"       // the bare script of one kind
)

// GenerateOptions select what Render prints.
type GenerateOptions struct {
	Format string
	Kind   string // AtlasSchema or AtlasMigration; FormatLua only
}

// Render returns the health checks in the requested format, deterministic byte for byte.
//
// TODO(issue 3): placeholder until the generator lands.
func Render(opts GenerateOptions) ([]byte, error) {
	return nil, nil
}
