// Package healthcheck holds the Argo CD Lua health checks for Atlas resources (one embedded
// .lua file per kind), the one evaluator every verb uses, the generator of argocd-cm / Helm /
// kustomize outputs and the health_test.yaml runner.
package healthcheck

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/glob"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/lua"
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

// Result is a health verdict as Argo CD stores it (gitops-engine's HealthStatus): the one
// verdict type, from the scripts (lua gives their two words) and the built-in rules alike.
// Status is empty when a script returned nil or an empty table (Argo CD then shows no health
// for the object).
type Result struct {
	Status  HealthStatus `json:"status"`
	Message string       `json:"message,omitempty"`
}

// The scripts are assembled from parts so the two kinds share one flow: a header, lib.lua
// (helpers), <Kind>.lua (what Ready=True means for the kind and where its approval URL is),
// then flow.lua (deletion, generation, conditions). Argo CD gets the assembled text: each
// script stands alone in argocd-cm, with no require.
//
//go:embed scripts/*.lua
var scriptFS embed.FS

// Kinds are the kinds the project ships scripts of their own for, in output order. Every other
// kind of the group gets the generic script (GenericKind).
var Kinds = []string{atlas.KindAtlasMigration, atlas.KindAtlasSchema}

// GenericKind stands for every kind of the group without a script of its own: the override key
// "db.atlasgo.io/*" (Argo CD matches it as a glob) and the folder "_" of the
// resource_customizations layout (Argo CD's spelling of a wildcard in folder names).
const GenericKind = "*"

// GenericKey is the argocd-cm override key of the generic script.
var GenericKey = OverrideKey(schema.GroupKind{Group: atlas.Group, Kind: GenericKind})

const scriptHeader = `-- Health of a db.atlasgo.io %s (Atlas Operator), by kubectl-atlas.
-- Written for Argo CD's default Lua VM: base and table libraries only (no string, no math).
-- Source and tests: https://github.com/kubectl-atlas/kubectl-atlas (healthcheck/).

`

// genericHeader names no kind: the generic script is the same text for every kind it covers.
const genericHeader = `-- Health of any kind of db.atlasgo.io (Atlas Operator) without a script of its own, by
-- kubectl-atlas: the rule on the conditions every kind has (Ready, Reconciling, Stalled) and
-- observedGeneration.
-- Written for Argo CD's default Lua VM: base and table libraries only (no string, no math).
-- Source and tests: https://github.com/kubectl-atlas/kubectl-atlas (healthcheck/).

`

// Script returns the project's health script for a kind of the group: the kind's own script for
// AtlasMigration and AtlasSchema, the generic one for any other kind name (or GenericKind).
func Script(kind string) (string, error) {
	if !slices.Contains(Kinds, kind) && kind != GenericKind && !atlas.ValidKindName(kind) {
		return "", fmt.Errorf("no health script for kind %q: want a kind name such as %s (kinds are case-sensitive)", kind, strings.Join(Kinds, " or "))
	}
	var b strings.Builder
	part := kind + ".lua"
	if slices.Contains(Kinds, kind) {
		fmt.Fprintf(&b, scriptHeader, kind)
	} else {
		b.WriteString(genericHeader)
		part = "generic.lua"
	}
	for _, part := range []string{"lib.lua", part, "flow.lua"} {
		data, err := scriptFS.ReadFile("scripts/" + part)
		if err != nil {
			return "", err
		}
		b.Write(data)
	}
	return b.String(), nil
}

// Override is one health customization of argocd-cm, as Argo CD's ResourceOverride holds it.
type Override struct {
	HealthLua   string
	UseOpenLibs bool
}

// OverrideKey is Argo CD's key for a group/kind ("Kind" for the core group).
func OverrideKey(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Group + "/" + gk.Kind
}

// Evaluator picks and runs health scripts the way Argo CD's controller does with a given set of
// argocd-cm overrides: exact group/kind key first, then wildcard keys (e.g. "*.atlasgo.io/*").
// It knows nothing of Argo CD's own built-in scripts. Safe for concurrent use.
type Evaluator struct {
	exact     map[string]*compiled
	wildcards []wildcard
	// patient evaluators give a script that hit Argo CD's one-second limit one more run with
	// hangGuard as its limit (see Default).
	patient bool
}

// hangGuard is the time limit of the second run of the project's own scripts: long enough for
// any machine, short enough to stop a script that would never end.
var hangGuard = time.Minute

type compiled struct {
	script *lua.Script
	err    error // a syntax error, reported on every evaluation as Argo CD does
}

type wildcard struct {
	key  string
	glob glob.Glob
	c    *compiled
}

// NewEvaluator compiles every override with a health script once. A script with a syntax error
// still counts as present: evaluating it gives Unknown with the error, as in Argo CD.
func NewEvaluator(overrides map[string]Override) (*Evaluator, error) {
	e := &Evaluator{exact: map[string]*compiled{}}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys) // Argo CD's wildcard choice is random map order; ours is stable
	for _, k := range keys {
		o := overrides[k]
		if o.HealthLua == "" {
			continue
		}
		s, err := lua.Compile(o.HealthLua, o.UseOpenLibs)
		c := &compiled{script: s, err: err}
		e.exact[k] = c
		if strings.ContainsAny(k, "*?[{") {
			g, gerr := glob.Compile(k)
			if gerr != nil {
				return nil, fmt.Errorf("resource customization key %q is not a valid glob: %w", k, gerr)
			}
			e.wildcards = append(e.wildcards, wildcard{key: k, glob: g, c: c})
		}
	}
	return e, nil
}

// Lookup returns the argocd-cm key whose script covers gk, or "" when none does.
func (e *Evaluator) Lookup(gk schema.GroupKind) string {
	key := OverrideKey(gk)
	if _, ok := e.exact[key]; ok {
		return key
	}
	for _, w := range e.wildcards {
		if w.glob.Match(key) {
			return w.key
		}
	}
	return ""
}

// Evaluate runs the script covering obj's group/kind exactly as Argo CD would, without any
// redaction: the deletion pre-check, then the script; a script error gives Unknown with the
// error text, and the error. ok is false when no script covers the object.
func (e *Evaluator) Evaluate(obj *unstructured.Unstructured) (res Result, ok bool, err error) {
	if e.Lookup(obj.GroupVersionKind().GroupKind()) == "" {
		return Result{}, false, nil
	}
	if lua.PendingDeletion(obj) {
		return Result{Status: Progressing, Message: lua.MessagePendingDeletion}, true, nil
	}
	return e.EvaluateScript(obj)
}

// EvaluateScript runs the script covering obj without Argo CD v3.5.1's deletion pre-check, as
// Argo CD's own health_test.yaml runner does and as Argo CD after v3.5 runs scripts on objects
// being deleted: the scripts then name the finalizers a deletion waits for.
func (e *Evaluator) EvaluateScript(obj *unstructured.Unstructured) (res Result, ok bool, err error) {
	key := e.Lookup(obj.GroupVersionKind().GroupKind())
	if key == "" {
		return Result{}, false, nil
	}
	c := e.exact[key]
	if c.err != nil {
		return Result{Status: Unknown, Message: c.err.Error()}, true, c.err
	}
	status, message, err := c.script.Health(obj)
	if e.patient && errors.Is(err, lua.ErrTimeLimit) {
		status, message, err = c.script.HealthWithin(obj, hangGuard)
	}
	if err != nil {
		return Result{Status: Unknown, Message: err.Error()}, true, err
	}
	return Result{Status: HealthStatus(status), Message: message}, true, nil
}

// DefaultOverrides are the project's scripts as argocd-cm overrides (without open libs, as
// `healthcheck generate --wildcard` writes them): one per kind with its own script, and the
// generic one for every other kind of the group.
func DefaultOverrides() map[string]Override {
	out := map[string]Override{}
	for _, k := range append(slices.Clone(Kinds), GenericKind) {
		s, err := Script(k)
		if err != nil {
			panic(err) // embedded at build time
		}
		out[OverrideKey(schema.GroupKind{Group: atlas.Group, Kind: k})] = Override{HealthLua: s}
	}
	return out
}

// defaultEvaluator compiles the embedded scripts on first use, not at start-up: the binary starts
// on every TAB completion, and most verbs never evaluate health.
//
// It is patient: the project's scripts take microseconds to milliseconds (linear, text cut at
// 32 KiB, benchmarked), so when one hits Argo CD's one-second limit in status, wait, apply or
// doctor, the machine was starved, not the script slow, and a verdict of Unknown would be the
// machine's load speaking. Scripts a user tests (healthcheck test) keep Argo CD's limit alone.
var defaultEvaluator = sync.OnceValue(func() *Evaluator {
	e, err := NewEvaluator(DefaultOverrides())
	if err != nil {
		panic(err)
	}
	e.patient = true
	for k, c := range e.exact {
		if c.err != nil {
			panic(fmt.Sprintf("embedded health script %s: %v", k, c.err))
		}
	}
	return e
})

// Default returns the evaluator of the project's own scripts.
func Default() *Evaluator { return defaultEvaluator() }

// Evaluate judges an Atlas object with the project's own scripts, exactly as Argo CD would with
// them in argocd-cm, except that passwords in URLs are redacted from the message (internal/redact).
// ok is false when no script covers the object's group/kind. Safe for concurrent use.
func Evaluate(obj *unstructured.Unstructured) (res Result, ok bool, err error) {
	res, ok, err = defaultEvaluator().Evaluate(obj)
	res.Message = redact.String(res.Message)
	return res, ok, err
}

// Judge is the verdict of the project's health script on an object of the group (the one
// interpretation of its conditions), with credentials redacted from the message. An object being
// deleted gets the script's answer, which names the finalizers left (Argo CD v3.5.1 shows only
// "Pending deletion": it answers before the script runs).
func Judge(obj *unstructured.Unstructured) Result {
	res, _, err := defaultEvaluator().EvaluateScript(obj)
	res.Message = redact.String(res.Message)
	if err != nil {
		return Result{Status: Unknown, Message: "health check failed: " + redact.String(err.Error())}
	}
	return res
}

// MaxMessage is the longest message a Kubernetes condition holds (metav1.Condition). With the
// string library (useOpenLibs) the scripts cut longer text before they redact it, so a message
// in another field, or from a future operator, cannot run them past Argo CD's time limit.
const MaxMessage = 32768

// CutMessage is the scripts' cut, in Go: text over MaxMessage bytes ends at its last white space
// within the limit (a credential cut in half would no longer look like one), followed by a note
// of how much was left out.
func CutMessage(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	kept := s[:max(strings.LastIndexAny(s[:MaxMessage], " \t\r\n"), 0)]
	return fmt.Sprintf("%s [%d more bytes not shown]", kept, len(s)-len(kept))
}
