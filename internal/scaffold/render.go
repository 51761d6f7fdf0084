package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// File is one file of a scaffolded folder; Path is slash-separated and relative to the folder.
type File struct {
	Path string
	Data []byte
}

// Folder layout.
const (
	KustomizationFile   = "kustomization.yaml"
	NameReferenceFile   = "kustomizeconfig.yaml"
	ArgoCDDir           = "argocd"
	ArgoCDAppFile       = "argocd/application.yaml"
	ArgoCDHealthFile    = "argocd/argocd-cm-health.yaml"
	ArgoCDComponentFile = "argocd/kustomization.yaml"
)

// YAML renders one object. Keys are sorted (as kubectl -o yaml does), so output is deterministic.
func YAML(u *unstructured.Unstructured) ([]byte, error) {
	if b, ok, err := fastConfigMapYAML(u); ok {
		return b, err
	}
	b, err := blockYAML(u.Object)
	if err != nil {
		return nil, fmt.Errorf("rendering %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return b, nil
}

// Stream renders objects as one YAML stream separated by "---".
func Stream(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for i, u := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := YAML(u)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// nameReference teaches kustomize where Atlas resources name ConfigMaps and Secrets, so a hashed
// (needs-hash), prefixed or suffixed name is followed into the Atlas resources as it is into
// Pods. Kustomize knows none of these paths by itself.
const nameReference = `# Tells kustomize where Atlas resources reference ConfigMaps and Secrets, so hashed, prefixed
# or suffixed names (configMapGenerator, namePrefix, overlays) are followed. Written by kubectl atlas.
nameReference:
- kind: ConfigMap
  version: v1
  fieldSpecs:
  - group: db.atlasgo.io
    kind: AtlasMigration
    path: spec/dir/configMapRef/name
  - group: db.atlasgo.io
    kind: AtlasSchema
    path: spec/schema/configMapKeyRef/name
- kind: Secret
  version: v1
  fieldSpecs:
  - group: db.atlasgo.io
    kind: AtlasMigration
    path: spec/urlFrom/secretKeyRef/name
  - group: db.atlasgo.io
    kind: AtlasMigration
    path: spec/devURLFrom/secretKeyRef/name
  - group: db.atlasgo.io
    kind: AtlasMigration
    path: spec/cloud/tokenFrom/secretKeyRef/name
  - group: db.atlasgo.io
    kind: AtlasSchema
    path: spec/urlFrom/secretKeyRef/name
  - group: db.atlasgo.io
    kind: AtlasSchema
    path: spec/devURLFrom/secretKeyRef/name
  - group: db.atlasgo.io
    kind: AtlasSchema
    path: spec/cloud/tokenFrom/secretKeyRef/name
`

// NameReferenceConfig is the kustomize `configurations:` file for Atlas resources. The kustomize
// generator's users list it in their kustomization.yaml; `init` writes it as NameReferenceFile.
func NameReferenceConfig() []byte { return []byte(nameReference) }

// Kustomization renders kustomization.yaml for objects stored under their File names.
func Kustomization(namespace string, objs []Object) []byte {
	var b strings.Builder
	b.WriteString("# Written by kubectl atlas init. Build with `kubectl kustomize .` or point Argo CD at this folder.\n")
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	if namespace != "" {
		fmt.Fprintf(&b, "namespace: %s\n", namespace)
	}
	b.WriteString("resources:\n")
	for _, o := range objs {
		fmt.Fprintf(&b, "- %s\n", o.File)
	}
	fmt.Fprintf(&b, "configurations:\n- %s\n", NameReferenceFile)
	return []byte(b.String())
}

// ArgoCDOptions are the inputs of ArgoCDApplication.
type ArgoCDOptions struct {
	// Name of the Application (defaults to the scaffold's name).
	Name string
	// Namespace where Argo CD runs (default "argocd").
	Namespace string
	RepoURL   string
	// Revision defaults to HEAD.
	Revision string
	// Path of the folder in the repository.
	Path string
	// DestNamespace is where the objects go (default "default").
	DestNamespace string
	// Project defaults to "default".
	Project string
}

// ErrNoRepoURL is an Application asked for without the repository Argo CD syncs from.
var ErrNoRepoURL = errors.New("an Argo CD Application needs a repository URL")

// ArgoCDApplication builds an Argo CD Application that syncs the folder automatically, with
// prune, self-heal and retry with backoff (as the operator's and Argo CD's guides do), and
// server-side apply so large migration ConfigMaps and the operator's CRD-backed objects apply.
func ArgoCDApplication(o ArgoCDOptions) (*unstructured.Unstructured, error) {
	if o.RepoURL == "" {
		return nil, ErrNoRepoURL
	}
	if o.Name == "" {
		return nil, fmt.Errorf("an Argo CD Application needs a name")
	}
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	p := path.Clean(strings.TrimPrefix(def(o.Path, "."), "./"))
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata": map[string]any{
			"name":      o.Name,
			"namespace": def(o.Namespace, "argocd"),
			"labels":    map[string]any{ManagedByLabel: ManagedBy},
		},
		"spec": map[string]any{
			"project": def(o.Project, "default"),
			"source": map[string]any{
				"repoURL":        o.RepoURL,
				"targetRevision": def(o.Revision, "HEAD"),
				"path":           p,
			},
			"destination": map[string]any{
				"server":    "https://kubernetes.default.svc",
				"namespace": def(o.DestNamespace, "default"),
			},
			"syncPolicy": map[string]any{
				"automated":   map[string]any{"prune": true, "selfHeal": true},
				"syncOptions": []any{"CreateNamespace=true", ServerSideApplyOption},
				"retry": map[string]any{
					"limit": int64(5),
					"backoff": map[string]any{
						"duration":    "5s",
						"factor":      int64(2),
						"maxDuration": "3m",
					},
				},
			},
		},
	}}
	return u, nil
}

// ArgoCDComponent is the kustomization.yaml of the argocd/ folder: a kustomize Component that
// patches argocd-cm with the Atlas health checks when included (`components: [path/to/argocd]`)
// in the kustomization that installs Argo CD. A Component, because the patch needs argocd-cm
// from that installation and must not be applied on its own.
func ArgoCDComponent() []byte {
	return []byte(`# Include this Component in the kustomization that installs Argo CD (components: [<path>/argocd])
# to add the Atlas health checks to argocd-cm. Apply application.yaml once: kubectl apply -f application.yaml
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- path: ` + path.Base(ArgoCDHealthFile) + `
  # By target, so argocd-cm matches in whatever namespace Argo CD is installed.
  target:
    version: v1
    kind: ConfigMap
    name: argocd-cm
`)
}

// FolderOptions are the inputs of Folder.
type FolderOptions struct {
	Namespace string
	Objects   []Object
	// Application, when set, is written with the health-check patch under argocd/.
	Application *unstructured.Unstructured
	// HealthPatch is the argocd-cm strategic-merge patch (healthcheck.Render with FormatKustomize).
	HealthPatch []byte
}

// Folder renders every file of an `init` folder, sorted by path: one file per object,
// kustomization.yaml, the nameReference configuration and, with an Application, argocd/.
func Folder(o FolderOptions) ([]File, error) {
	var files []File
	seen := map[string]bool{}
	for _, obj := range o.Objects {
		if seen[obj.File] {
			return nil, fmt.Errorf("two objects map to file %s", obj.File)
		}
		seen[obj.File] = true
		b, err := YAML(obj.Unstructured)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: obj.File, Data: b})
	}
	files = append(files,
		File{Path: KustomizationFile, Data: Kustomization(o.Namespace, o.Objects)},
		File{Path: NameReferenceFile, Data: NameReferenceConfig()},
	)
	if o.Application != nil {
		if len(bytes.TrimSpace(o.HealthPatch)) == 0 {
			return nil, fmt.Errorf("the Argo CD health-check patch is empty")
		}
		b, err := YAML(o.Application)
		if err != nil {
			return nil, err
		}
		files = append(files,
			File{Path: ArgoCDAppFile, Data: b},
			File{Path: ArgoCDHealthFile, Data: o.HealthPatch},
			File{Path: ArgoCDComponentFile, Data: ArgoCDComponent()},
		)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// WaveOf returns the sync wave of an object (0 when unset), as Argo CD reads it.
func WaveOf(u *unstructured.Unstructured) string {
	if w, ok := u.GetAnnotations()[atlas.SyncWaveAnnotation]; ok {
		return w
	}
	return "0"
}
