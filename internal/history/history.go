// Package history is the migration history of an AtlasMigration as `kubectl atlas history`
// shows it (Flyway's `info`): every migration file of the directory the cluster holds, in
// atlas's order, with its state read from the object's status alone (no database connection),
// and optionally how a local directory differs from it.
package history

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/healthcheck"
	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// State is where a migration stands.
type State string

const (
	// Applied: at or below status.lastAppliedVersion in atlas's order, or before the file a
	// failed run stopped at (atlas applies files in order and stops at the first failure).
	Applied State = "applied"
	// Pending: atlas would still apply it.
	Pending State = "pending"
	// Failed: the operator's last run stopped at this file; Message holds its error.
	Failed State = "failed"
	// LocalOnly: in the local directory (--dir) but not in the cluster's.
	LocalOnly State = "local only"
)

// Type says how a file runs.
type Type string

const (
	Versioned   Type = "versioned"
	Repeatable  Type = "repeatable"  // a converted Flyway R__ file: runs again when edited
	RunOnChange Type = "runOnChange" // a converted Liquibase runOnChange changeset
)

// Local is how a file compares with the local directory (--dir).
type Local string

const (
	Same        Local = "same"
	Differs     Local = "differs"      // same name, other content: an applied file edited locally breaks atlas.sum
	ClusterOnly Local = "cluster only" // removed locally, or not converted the same way
	OnlyLocal   Local = "local only"
)

// Migration is one file of the directory.
type Migration struct {
	// Version is atlas's version (the file name up to the first '_'); Description the rest.
	Version     string `json:"version"`
	Description string `json:"description"`
	File        string `json:"file"`
	Type        Type   `json:"type"`
	// Checksum is the content checksum a repeatable or runOnChange version carries.
	Checksum string `json:"checksum,omitempty"`
	State    State  `json:"state"`
	// Message is the operator's error for the failed file (redacted).
	Message string `json:"message,omitempty"`
	// Local is set with --dir.
	Local Local `json:"local,omitempty"`
}

// History is the migrations of one AtlasMigration and what its status says.
type History struct {
	Namespace, Name string
	// Source names where the directory came from: "ConfigMap NAME" or "spec.dir.local".
	Source             string
	Health             healthcheck.Result
	Reason             string
	LastAppliedVersion string
	// NonLinear is set when the directory holds files that run again when edited: atlas then
	// runs non-linear, and files below lastAppliedVersion may be pending too (status alone
	// cannot tell).
	NonLinear  bool
	Migrations []Migration

	files map[string]string // the cluster's directory, for CompareLocal
}

// DirSource says where an AtlasMigration's directory lives: a ConfigMap name, or the inline
// spec.dir.local files. A remote directory (Atlas Cloud) is an error: it is not in the cluster.
func DirSource(obj *unstructured.Unstructured) (configMap string, local map[string]string, err error) {
	if name, _, _ := unstructured.NestedString(obj.Object, "spec", "dir", "configMapRef", "name"); name != "" {
		return name, nil, nil
	}
	if files, ok, _ := unstructured.NestedStringMap(obj.Object, "spec", "dir", "local"); ok {
		return "", files, nil
	}
	if remote, ok, _ := unstructured.NestedMap(obj.Object, "spec", "dir", "remote"); ok && len(remote) > 0 {
		return "", nil, &RemoteDirError{Name: obj.GetName()}
	}
	return "", nil, fmt.Errorf("AtlasMigration %s has no spec.dir.configMapRef or spec.dir.local", obj.GetName())
}

// RemoteDirError is an AtlasMigration whose directory lives in Atlas Cloud (spec.dir.remote).
type RemoteDirError struct{ Name string }

func (e *RemoteDirError) Error() string {
	return fmt.Sprintf("AtlasMigration %s reads its directory from Atlas Cloud (spec.dir.remote), not from the cluster: its history is in Atlas Cloud", e.Name)
}

// failedAt finds the version a failed run stopped at in the operator's message: atlas's
// executor says `executing statement "..." from version "V"`.
var failedAt = regexp.MustCompile(`from version "([^"]+)"`)

// Build lists the migrations of files (a directory as the operator reads it: file name ->
// content; only *.sql files are migrations) with their state from obj's status.
func Build(obj *unstructured.Unstructured, source string, files map[string]string) *History {
	h := &History{Namespace: obj.GetNamespace(), Name: obj.GetName(), Source: source, files: files}
	h.Health, _ = healthcheck.Get(obj)
	h.LastAppliedVersion, _, _ = unstructured.NestedString(obj.Object, "status", "lastAppliedVersion")
	ready := readyCondition(obj)
	h.Reason = ready["reason"]

	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".sql") {
			names = append(names, name)
		}
	}
	sort.Strings(names) // atlas's order: migrate.LocalDir lists files by name
	versions := make([]string, len(names))
	for i, name := range names {
		f := migrate.NewLocalFile(name, []byte(files[name]))
		m := Migration{Version: f.Version(), Description: f.Desc(), File: name, Type: Versioned}
		if r, ok := migdir.ParseRerunVersion(m.Version); ok {
			m.Type, m.Checksum = RunOnChange, r.Checksum
			if r.Repeatable {
				m.Type = Repeatable
			}
			h.NonLinear = true
		}
		versions[i] = m.Version
		h.Migrations = append(h.Migrations, m)
	}

	pending := atlas.PendingVersions(versions, h.LastAppliedVersion)
	firstPending := len(versions) - len(pending)
	failed := -1
	if h.Health.Status == healthcheck.Degraded {
		if m := failedAt.FindStringSubmatch(ready["message"]); m != nil {
			failed = slices.Index(versions, m[1])
		}
	}
	for i := range h.Migrations {
		m := &h.Migrations[i]
		switch {
		case i == failed:
			m.State, m.Message = Failed, redact.String(ready["message"])
		case i < firstPending || (failed >= 0 && i < failed):
			m.State = Applied
		default:
			m.State = Pending
		}
	}
	return h
}

// readyCondition is the Ready condition's fields ("" when absent).
func readyCondition(obj *unstructured.Unstructured) map[string]string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		out := map[string]string{}
		for _, k := range []string{"status", "reason", "message"} {
			out[k], _ = m[k].(string)
		}
		return out
	}
	return map[string]string{}
}

// CompareLocal marks how each migration compares with a local directory (read and converted
// by migdir as `configmap` packs it), and adds the files only the local directory has, in
// atlas's order among the others.
func (h *History) CompareLocal(d *migdir.Dir) {
	local := map[string][]byte{}
	for _, f := range d.Files {
		if strings.HasSuffix(f.Name, ".sql") {
			local[f.Name] = f.Data
		}
	}
	for i := range h.Migrations {
		m := &h.Migrations[i]
		data, ok := local[m.File]
		switch {
		case !ok:
			m.Local = ClusterOnly
		case string(data) != h.files[m.File]:
			m.Local = Differs
		default:
			m.Local = Same
		}
		delete(local, m.File)
	}
	for name := range local {
		f := migrate.NewLocalFile(name, local[name])
		m := Migration{Version: f.Version(), Description: f.Desc(), File: name, Type: Versioned, State: LocalOnly, Local: OnlyLocal}
		if r, ok := migdir.ParseRerunVersion(m.Version); ok {
			m.Type, m.Checksum = RunOnChange, r.Checksum
			if r.Repeatable {
				m.Type = Repeatable
			}
		}
		h.Migrations = append(h.Migrations, m)
	}
	sort.SliceStable(h.Migrations, func(i, j int) bool { return h.Migrations[i].File < h.Migrations[j].File })
}

// Edited lists the applied files whose local content differs from the cluster's: the usual
// cause of atlas's "checksum mismatch" once the local directory is deployed.
func (h *History) Edited() []Migration {
	var out []Migration
	for _, m := range h.Migrations {
		if m.Local == Differs && m.State == Applied {
			out = append(out, m)
		}
	}
	return out
}

// Failed is the failed migration, if one is known.
func (h *History) Failed() (Migration, bool) {
	for _, m := range h.Migrations {
		if m.State == Failed {
			return m, true
		}
	}
	return Migration{}, false
}
