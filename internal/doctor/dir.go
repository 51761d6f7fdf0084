package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// checkDir checks an AtlasMigration's directory: the ConfigMap (or inline files), atlas.sum by
// our validator, the files after lastAppliedVersion, and with --dir the local differences.
func (r *run) checkDir(ctx context.Context, s *spec) {
	d := s.Dir
	var files map[string]string
	where := "spec.dir.local"
	switch {
	case d.ConfigMapRef != nil && d.Local != nil:
		r.add("configmap", Fail, "spec.dir sets both configMapRef and local: the operator refuses that", "keep one of them")
		return
	case d.ConfigMapRef != nil:
		where = "ConfigMap " + d.ConfigMapRef.Name
		cm := r.configMap(ctx, "configmap", "spec.dir.configMapRef", d.ConfigMapRef.Name)
		if cm == nil {
			return
		}
		files = cm.Data
		saw := fmt.Sprintf("%s exists with %d file(s)", where, len(cm.Data))
		if len(cm.BinaryData) > 0 {
			r.add("configmap", Warn, saw+fmt.Sprintf("; it also has %d binaryData key(s), which the operator ignores", len(cm.BinaryData)),
				"migration files must be UTF-8 text in data (kubectl atlas configmap packs them so)")
		} else {
			r.add("configmap", OK, saw, "")
		}
	case d.Local != nil:
		files = d.Local
	case d.Remote.Name != "":
		r.add("configmap", Info, fmt.Sprintf("the directory is %s (tag %s) in Atlas Cloud: not checked here", d.Remote.Name, dash(d.Remote.Tag)), "")
		if s.Cloud.TokenFrom.SecretKeyRef == nil {
			r.add("cloud-token", Fail, "spec.dir.remote needs an Atlas Cloud token, and spec.cloud.tokenFrom is not set", "set spec.cloud.tokenFrom.secretKeyRef to the Secret holding the token")
		}
		return
	default:
		r.add("configmap", Fail, "spec.dir names no directory (configMapRef, local or remote)", "set spec.dir.configMapRef.name to the migrations ConfigMap")
		return
	}

	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	last, _, _ := unstructured.NestedString(r.obj.Object, "status", "lastAppliedVersion")
	dir, err := migdir.ReadFS(fsys, migdir.Options{Format: migdir.FormatAtlas})
	var se *migdir.SumError
	if err != nil {
		var ee *migdir.EmptyError
		switch {
		case errors.As(err, &se):
			r.add("atlas.sum", Fail, fmt.Sprintf("%s: %v", where, err), "run `atlas migrate hash` on the directory in Git (restore an edited applied file first) and pack it again (kubectl atlas configmap)")
		case errors.As(err, &ee):
			r.add("atlas.sum", Fail, fmt.Sprintf("%s: %v", where, err), "pack the migration directory into the ConfigMap (kubectl atlas configmap --dir DIR)")
			return
		default:
			r.add("atlas.sum", Fail, fmt.Sprintf("%s: %v", where, err), "")
		}
		// the files in atlas's order, whatever atlas.sum says
		if dir, err = migdir.ReadFS(fsys, migdir.Options{Format: migdir.FormatAtlas, Hash: true}); err != nil {
			return
		}
	} else {
		r.add("atlas.sum", OK, fmt.Sprintf("%s: atlas.sum matches its %d migration file(s)", where, len(dir.Versions())), "")
	}
	r.checkPending(dir, last)
	if r.d.opts.Dir != nil {
		sumFile := ""
		if se != nil {
			sumFile = se.File
		}
		r.compareDir(dir, last, sumFile)
	}
}

// checkPending lists the files atlas would still apply after lastAppliedVersion.
func (r *run) checkPending(dir *migdir.Dir, last string) {
	versions := dir.Versions()
	pending := atlas.PendingVersions(versions, last)
	names := fileNames(dir)
	var files []string
	for _, v := range pending {
		files = append(files, names[v])
	}
	applied := "nothing applied yet"
	if last != "" {
		applied = "applied up to version " + last
	}
	switch {
	case len(pending) == 0:
		r.add("pending", OK, fmt.Sprintf("%s; no file after it", applied), "")
	default:
		r.add("pending", Info, fmt.Sprintf("%s; %d file(s) after it, in atlas's order: %s", applied, len(pending), strings.Join(files, ", ")), "")
	}
	if last != "" && !contains(versions, last) {
		r.add("pending", Warn, fmt.Sprintf("lastAppliedVersion %s is no file of the directory (removed or renamed after it was applied, or spec.baseline?)", last),
			"applied files must stay in the directory: restore the file, unless the version is the baseline")
	}
}

// compareDir names the files that differ between --dir and the cluster's directory.
// sumFile is the file of the cluster's directory that does not match its atlas.sum, if any.
func (r *run) compareDir(cluster *migdir.Dir, last, sumFile string) {
	local := r.d.opts.Dir
	cl := map[string][]byte{}
	for _, f := range cluster.Files {
		cl[f.Name] = f.Data
	}
	var edited, editedApplied, editedCluster, onlyLocal, onlyCluster []string
	seen := map[string]bool{}
	for _, f := range local.Files {
		seen[f.Name] = true
		c, ok := cl[f.Name]
		switch {
		case !ok:
			onlyLocal = append(onlyLocal, f.Name)
		case bytes.Equal(c, f.Data) || f.Name == migdir.SumFile:
		case f.Name == sumFile:
			editedCluster = append(editedCluster, f.Name)
		case atlas.VersionApplied(migrate.NewLocalFile(f.Name, nil).Version(), last):
			editedApplied = append(editedApplied, f.Name)
		default:
			edited = append(edited, f.Name)
		}
	}
	for name := range cl {
		if !seen[name] {
			onlyCluster = append(onlyCluster, name)
		}
	}
	sort.Strings(onlyCluster)
	at := "--dir " + local.Path
	if len(edited)+len(editedApplied)+len(editedCluster)+len(onlyLocal)+len(onlyCluster) == 0 {
		r.add("dir", OK, at+": the same files as the cluster's directory", "")
		return
	}
	if len(editedApplied) > 0 {
		r.add("dir", Fail, fmt.Sprintf("%s: applied file(s) differ between your directory and the cluster's: %s (applied up to version %s): an edited applied file is what makes atlas report \"checksum mismatch\"", at, strings.Join(editedApplied, ", "), last),
			"never edit an applied migration: restore its applied content on both sides, put the change in a new file, `atlas migrate hash`, pack and apply again")
	}
	if len(editedCluster) > 0 {
		r.add("dir", Fail, fmt.Sprintf("%s: the cluster's %s differs from yours and does not match the cluster's atlas.sum: it was edited after the directory was packed, which makes atlas report \"checksum mismatch\"", at, strings.Join(editedCluster, ", ")),
			"pack your directory again (kubectl atlas configmap) and apply the ConfigMap; edit migrations in Git, never in the cluster")
	}
	var diffs []string
	if len(edited) > 0 {
		diffs = append(diffs, "not applied yet and different: "+strings.Join(edited, ", "))
	}
	if len(onlyLocal) > 0 {
		diffs = append(diffs, "only in your directory: "+strings.Join(onlyLocal, ", "))
	}
	if len(onlyCluster) > 0 {
		diffs = append(diffs, "only in the cluster: "+strings.Join(onlyCluster, ", "))
	}
	if len(diffs) > 0 {
		r.add("dir", Warn, at+": "+strings.Join(diffs, "; "), "pack the directory again (kubectl atlas configmap) and apply it, or check out the revision the cluster runs")
	}
}

func fileNames(d *migdir.Dir) map[string]string {
	out := map[string]string{}
	for _, f := range d.Files {
		if f.Name != migdir.SumFile {
			out[migrate.NewLocalFile(f.Name, nil).Version()] = f.Name
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// configMap reads a referenced ConfigMap, adding a FAIL when it is missing.
func (r *run) configMap(ctx context.Context, check, field, name string) *corev1.ConfigMap {
	cm, err := r.d.kube.CoreV1().ConfigMaps(r.ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.add(check, Fail, fmt.Sprintf("ConfigMap %s (%s) does not exist in namespace %s", name, field, r.ns),
			fmt.Sprintf("apply it in this namespace (kubectl atlas configmap --dir DIR --name %s | kubectl apply -n %s -f -), or fix %s", name, r.ns, field))
		return nil
	case err != nil:
		r.add(check, Warn, fmt.Sprintf("cannot read ConfigMap %s (%s): %s", name, field, explain(err)), "")
		return nil
	}
	cm.ManagedFields = nil
	r.ev.ConfigMaps = append(r.ev.ConfigMaps, cm)
	return cm
}

// checkSchema checks that an AtlasSchema's desired schema is there and parses.
func (r *run) checkSchema(ctx context.Context, s *spec) {
	sc := s.Schema
	switch {
	case sc.ConfigMapKeyRef != nil:
		ref := sc.ConfigMapKeyRef
		where := fmt.Sprintf("ConfigMap %s key %s", ref.Name, ref.Key)
		cm := r.configMap(ctx, "schema", "spec.schema.configMapKeyRef", ref.Name)
		if cm == nil {
			return
		}
		content, ok := cm.Data[ref.Key]
		if !ok {
			keys := make([]string, 0, len(cm.Data))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			r.add("schema", Fail, fmt.Sprintf("ConfigMap %s has no key %s; its keys: %s", ref.Name, ref.Key, dash(strings.Join(keys, ", "))),
				"set spec.schema.configMapKeyRef.key to the schema file's key")
			return
		}
		switch {
		case strings.HasSuffix(ref.Key, ".sql"):
			r.parseSQL(where, content)
		case strings.HasSuffix(ref.Key, ".hcl"):
			r.parseHCL(where, content)
		default:
			r.add("schema", Fail, where+": the key must end in .sql or .hcl, so the operator knows how to read it", "rename the key")
		}
	case sc.SQL != "":
		r.parseSQL("spec.schema.sql", sc.SQL)
	case sc.HCL != "":
		r.parseHCL("spec.schema.hcl", sc.HCL)
	case sc.URL != "":
		r.add("schema", Info, "spec.schema.url "+sc.URL+": a schema in Atlas Cloud, not checked here", "")
	default:
		r.add("schema", Fail, "spec.schema is empty: no sql, hcl, url or configMapKeyRef", "set the desired schema")
	}
}

func (r *run) parseSQL(where, content string) {
	stmts, err := migrate.Stmts(content)
	switch {
	case err != nil:
		r.add("schema", Fail, fmt.Sprintf("%s does not split into SQL statements: %v", where, err), "fix the SQL (an unterminated quote or comment?)")
	case len(stmts) == 0:
		r.add("schema", Fail, where+" holds no SQL statement", "put the desired schema in it (CREATE TABLE ...)")
	default:
		r.add("schema", OK, fmt.Sprintf("%s: %d SQL statement(s)", where, len(stmts)), "")
	}
}

func (r *run) parseHCL(where, content string) {
	f, diags := hclsyntax.ParseConfig([]byte(content), where, hcl.InitialPos)
	if diags.HasErrors() {
		r.add("schema", Fail, fmt.Sprintf("%s does not parse as HCL: %s", where, diags.Error()), "fix the HCL at the place named")
		return
	}
	body, _ := f.Body.(*hclsyntax.Body)
	n := 0
	if body != nil {
		n = len(body.Blocks)
	}
	r.add("schema", OK, fmt.Sprintf("%s parses as HCL (%d block(s))", where, n), "")
}
