// Package doctor answers "why is my Atlas resource stuck?": it runs every check a person would
// run by hand on one resource of db.atlasgo.io (its conditions and health verdict, the operator's
// Events, the Secrets, ConfigMaps and schema it references, the dev database, the operator's
// Deployment, watch scope, permissions and logs) and returns each as a Finding: OK, INFO, WARN
// or FAIL, what it saw and the fix. It never prints, and no Secret value leaves it: Secrets are
// read only to check their keys and URLs, their values are registered with the Doctor's
// redact.Redactor (Options.Redactor), and every text it returns is redacted with it.
//
// Health is judged by the one entry point, healthcheck.Get, and turned into an outcome by
// cluster.Verdict, so every kind of the group gets the same verdict here as in status and wait.
package doctor

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Severity is how much a finding matters. Only FAIL makes the resource unhealthy for doctor.
type Severity string

const (
	OK   Severity = "OK"   // checked, nothing wrong
	Info Severity = "INFO" // a fact worth knowing (a pending file, logs that cannot be read)
	Warn Severity = "WARN" // may explain trouble, or will cause it
	Fail Severity = "FAIL" // the resource cannot become healthy until it is fixed
)

func (s Severity) rank() int {
	switch s {
	case Fail:
		return 3
	case Warn:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Worse reports whether s matters more than t.
func (s Severity) Worse(t Severity) bool { return s.rank() > t.rank() }

// Finding is the result of one check.
type Finding struct {
	// Check names what was checked: ready, health, failures, events, url, dev-url, cloud-token,
	// config, configmap, atlas.sum, pending, dir, schema, dev-db, approval, operator, watch,
	// rbac, logs.
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Saw is what the check found (may span lines: log lines, a list of files).
	Saw string `json:"saw"`
	// Fix is what to do, "" when nothing is to be done.
	Fix string `json:"fix,omitempty"`
}

// Result is what doctor found about one resource, shaped like a Kubernetes object (as status
// records are) so kubectl's printers and queries work on it: {.status.result},
// {.status.findings[?(@.severity=="FAIL")].check}.
type Result struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Metadata   Meta    `json:"metadata"`
	Status     Summary `json:"status"`

	// Evidence is what the checks read, for the bug-report bundle; never printed.
	Evidence Evidence `json:"-"`
}

// Meta is the resource's identity.
type Meta struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Generation int64  `json:"generation"`
}

// Summary is the verdict and the findings.
type Summary struct {
	// Result is the worst severity among the findings.
	Result Severity `json:"result"`
	// Health is the health check's verdict, Message its message (what status shows).
	Health   healthcheck.HealthStatus `json:"health"`
	Message  string                   `json:"message,omitempty"`
	Findings []Finding                `json:"findings"`
}

// Failed reports whether a finding is FAIL.
func (r *Result) Failed() bool { return r.Status.Result == Fail }

// Ref is kubectl's short form, e.g. atlasmigration/app.
func (r *Result) Ref() string { return strings.ToLower(r.Kind) + "/" + r.Metadata.Name }

// Evidence is what the checks read about one resource.
type Evidence struct {
	// Object is the resource itself (managedFields dropped).
	Object *unstructured.Unstructured
	// Secrets are the referenced Secrets, by name: their key names only (nil when not found).
	Secrets map[string][]string
	// ConfigMaps are the referenced ConfigMaps, as read.
	ConfigMaps []*corev1.ConfigMap
	// Events are the Events about the resource, oldest first.
	Events []corev1.Event
	// LogLines are the operator's log lines that mention the resource.
	LogLines []string
}

// Options tune a Doctor.
type Options struct {
	// Dir is the user's local migration directory (--dir), compared with the cluster's; nil for none.
	Dir *migdir.Dir
	// LogLines is how many operator log lines about a resource to keep (default 10); TailLines
	// how many of the newest lines of each operator Pod to read (default 5000).
	LogLines, TailLines int
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
	// Redactor learns the secrets the checks read and redacts every text the Doctor returns,
	// the bug-report bundle included (a new one by default; the plugin passes its streams').
	Redactor *redact.Redactor
}

// Doctor runs the checks with one client. The operator is looked up once per Doctor.
type Doctor struct {
	kube kubernetes.Interface
	opts Options

	opOnce sync.Once
	op     *Operator
}

// New returns a Doctor reading the cluster through kube.
func New(kube kubernetes.Interface, opts Options) *Doctor {
	if opts.LogLines <= 0 {
		opts.LogLines = 10
	}
	if opts.TailLines <= 0 {
		opts.TailLines = 5000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.New()
	}
	return &Doctor{kube: kube, opts: opts}
}

// run collects the findings of one resource's checks.
type run struct {
	d        *Doctor
	obj      *unstructured.Unstructured
	ns, name string
	findings []Finding
	ev       Evidence
	health   healthcheck.Result
	// reason and message of the Ready condition.
	reason, message string
}

func (r *run) add(check string, sev Severity, saw, fix string) {
	r.findings = append(r.findings, Finding{Check: check, Severity: sev, Saw: r.d.opts.Redactor.String(saw), Fix: r.d.opts.Redactor.String(fix)})
}

// Examine runs every check on obj, an object of db.atlasgo.io.
func (d *Doctor) Examine(ctx context.Context, obj *unstructured.Unstructured) Result {
	obj = obj.DeepCopy()
	obj.SetManagedFields(nil)
	r := &run{d: d, obj: obj, ns: obj.GetNamespace(), name: obj.GetName(), ev: Evidence{Object: obj, Secrets: map[string][]string{}}}
	d.opts.Redactor.AddSpec(obj.Object["spec"])
	r.checkStatus()
	r.checkEvents(ctx)
	r.checkSpec(ctx)
	r.checkOperator(ctx)
	res := Result{
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Metadata:   Meta{Name: r.name, Namespace: r.ns, Generation: obj.GetGeneration()},
		Status:     Summary{Result: OK, Health: r.health.Status, Message: d.opts.Redactor.String(r.health.Message), Findings: r.findings},
		Evidence:   r.ev,
	}
	for _, f := range r.findings {
		if f.Severity.Worse(res.Status.Result) {
			res.Status.Result = f.Severity
		}
	}
	return res
}

// Sort orders results by namespace, kind and name.
func Sort(rs []Result) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Metadata.Namespace != b.Metadata.Namespace {
			return a.Metadata.Namespace < b.Metadata.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Metadata.Name < b.Metadata.Name
	})
}

// firstLine is the first non-empty line of s.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
