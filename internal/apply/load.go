// Package apply deploys a folder of manifests the way an Argo CD sync would: in Argo CD's order
// (phase, sync wave, kind, name, with Namespaces and CRDs moved ahead of what needs them), by
// server-side apply, waiting between waves until every object is healthy as Argo CD would judge
// it, and stopping on the first Degraded object.
package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one manifest to apply and where it came from.
type Object struct {
	Obj *unstructured.Unstructured
	// Source is "file:line" of the document (or "-" for stdin), for error messages.
	Source string
}

// ID is kubectl's name for the object, e.g. configmap/app or atlasmigration.db.atlasgo.io/app.
func (o *Object) ID() string { return ObjectID(o.Obj) }

// ObjectID is kubectl's kind[.group]/name.
func ObjectID(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	k := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		k += "." + gvk.Group
	}
	return k + "/" + u.GetName()
}

// manifestExt are the files -f DIR reads, as kubectl does.
var manifestExt = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// LoadFiles reads -f arguments: files, directories (their .yaml, .yml and .json files, not
// recursive) or "-" for stdin.
func LoadFiles(paths []string, stdin io.Reader) ([]*Object, error) {
	var out []*Object
	for _, p := range paths {
		if p == "-" {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			objs, err := Parse("-", b)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", p, errors.Unwrap(err))
		}
		files := []string{p}
		if st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			files = nil
			for _, e := range entries {
				if e.IsDir() || !manifestExt[strings.ToLower(filepath.Ext(e.Name()))] {
					continue
				}
				switch e.Name() {
				case "kustomization.yaml", "kustomization.yml", "Kustomization":
					return nil, fmt.Errorf("%s holds a kustomization: apply it with -k %s", p, p)
				}
				files = append(files, filepath.Join(p, e.Name()))
			}
			sort.Strings(files)
			if len(files) == 0 {
				return nil, fmt.Errorf("-f %s: no .yaml, .yml or .json files in the directory", p)
			}
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			objs, err := Parse(f, b)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

// LoadKustomization builds a kustomization in-process (krusty, as `kustomize build` does).
func LoadKustomization(dir string) ([]*Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("-k %s: kustomize build failed: %w", dir, err)
	}
	b, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("-k %s: %w", dir, err)
	}
	objs, err := Parse(dir+" (kustomize build)", b)
	if err != nil {
		return nil, err
	}
	return objs, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Parse reads the YAML (or JSON) documents of one file. Lists (kind: List, or *List) are
// expanded. Empty documents are skipped. Errors name the file and line.
func Parse(name string, data []byte) ([]*Object, error) {
	var out []*Object
	for _, d := range splitDocs(data) {
		doc := d.data
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		start := d.line + leadingBlankLines(doc)
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			at := start
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				n, _ := strconv.Atoi(m[1])
				at = d.line + n - 1
			}
			return nil, fmt.Errorf("%s:%d: invalid YAML: %s", name, at, strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("%s:%d: a manifest must be a mapping with apiVersion, kind and metadata: %v", name, start, err)
		}
		u := &unstructured.Unstructured{Object: m}
		objs, err := expand(u, fmt.Sprintf("%s:%d", name, start))
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

type rawDoc struct {
	data []byte
	line int // first line of data in the file (1-based)
}

// splitDocs splits a YAML stream at "---" lines, remembering where each document starts.
// Hand-written on purpose: apimachinery's YAML reader (util/yaml.NewYAMLReader) splits the same
// way but says nowhere where a document starts, and every load error names file:line.
func splitDocs(data []byte) []rawDoc {
	var docs []rawDoc
	lines := bytes.SplitAfter(data, []byte("\n"))
	cur := rawDoc{line: 1}
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("---")) && (len(bytes.TrimSpace(l)) == 3 || l[3] == ' ' || l[3] == '\t') {
			docs = append(docs, cur)
			cur = rawDoc{line: i + 2}
			continue
		}
		cur.data = append(cur.data, l...)
	}
	return append(docs, cur)
}

func expand(u *unstructured.Unstructured, source string) ([]*Object, error) {
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, fmt.Errorf("%s: the document has no apiVersion or kind (is it a Kubernetes manifest?)", source)
	}
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", source, u.GetKind(), err)
		}
		var out []*Object
		for i := range list.Items {
			objs, err := expand(&list.Items[i], fmt.Sprintf("%s (item %d)", source, i+1))
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	if u.GetName() == "" {
		if u.GetGenerateName() != "" {
			return nil, fmt.Errorf("%s: %s uses metadata.generateName, which server-side apply cannot create: give it a metadata.name", source, u.GetKind())
		}
		return nil, fmt.Errorf("%s: %s has no metadata.name", source, u.GetKind())
	}
	return []*Object{{Obj: u, Source: source}}, nil
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for _, l := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) != 0 && t[0] != '#' && string(t) != "---" {
			break
		}
		n++
	}
	return n
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] == '#' {
			continue
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
