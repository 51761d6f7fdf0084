package doctor

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"path"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/fsutil"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Versions are the versions a bug report names.
type Versions struct {
	Plugin    any    `json:"plugin"`
	APIServer string `json:"apiServer"`
	// Operators are the operator Deployments found and their versions (filled by Bundle).
	Operators []OperatorVersion `json:"operators"`
	// OperatorNote says why no operator version is known.
	OperatorNote string `json:"operatorNote,omitempty"`
}

// OperatorVersion is one operator Deployment's version.
type OperatorVersion struct {
	Deployment string `json:"deployment"`
	Version    string `json:"version"`
	Image      string `json:"image"`
}

// File is one file of the bundle.
type File struct {
	Name string
	Data []byte
}

// envKept are the operator's environment variables whose values say how it runs and hold no
// credential (cmd/main.go of v0.7.37); every other value is left out of the bundle.
var envKept = map[string]bool{"PREWARM_DEVDB": true, "ALLOW_CUSTOM_CONFIG": true, "DATA_DIR": true, "SKIP_VERCHECK": true}

const bundleReadme = `kubectl atlas doctor bug report

findings.txt      what doctor found, per resource (as the command prints it)
findings.json     the same as a List (kubectl atlas doctor -o json)
versions.json     the plugin, the API server and the operator Deployments' versions
resources/        the Atlas resources, their ConfigMaps, and their Secrets as key names only
events/           the Events about each resource
operator/         the operator's Deployment (environment values left out) and log tails

Every file was redacted: Secret values, passwords in URLs and other credential shapes are
replaced by xxxxx.
`

// Bundle lays out the bug-report bundle of results, every file redacted with the Doctor's
// Redactor (the files pass no redacting stream): Secrets as key names only, the operator's
// environment values left out.
func (d *Doctor) Bundle(results []Result, op *Operator, v Versions, findingsText, findingsJSON []byte) ([]File, error) {
	var files []File
	add := func(name string, data []byte) {
		files = append(files, File{Name: name, Data: []byte(d.opts.Redactor.String(string(data)))})
	}
	addYAML := func(name string, obj any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		add(name, b)
		return nil
	}
	add("README.txt", []byte(bundleReadme))
	add("findings.txt", findingsText)
	add("findings.json", findingsJSON)
	if op != nil {
		v.OperatorNote = op.Err
		for _, c := range op.Controllers {
			img := ""
			if mc := managerContainer(c.Deployment); mc != nil {
				img = mc.Image
			}
			v.Operators = append(v.Operators, OperatorVersion{Deployment: c.Deployment.Namespace + "/" + c.Deployment.Name, Version: c.Version, Image: img})
		}
		if len(op.Controllers) == 0 && op.Err == "" {
			v.OperatorNote = "no Deployment in the cluster runs the Atlas Operator (it may run outside the cluster)"
		}
	}
	if err := addYAML("versions.json", v); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range results {
		ev := r.Evidence
		dir := path.Join("resources", r.Metadata.Namespace)
		kind := strings.ToLower(r.Kind)
		if ev.Object != nil {
			if err := addYAML(path.Join(dir, kind+"-"+r.Metadata.Name+".yaml"), ev.Object.Object); err != nil {
				return nil, err
			}
		}
		for _, cm := range ev.ConfigMaps {
			name := path.Join(dir, "configmap-"+cm.Name+".yaml")
			if seen[name] {
				continue
			}
			seen[name] = true
			cm.Kind, cm.APIVersion = "ConfigMap", "v1"
			if err := addYAML(name, cm); err != nil {
				return nil, err
			}
		}
		for secret, keys := range ev.Secrets {
			name := path.Join(dir, "secret-"+secret+".yaml")
			if seen[name] {
				continue
			}
			seen[name] = true
			doc := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": secret, "namespace": r.Metadata.Namespace}}
			if keys == nil {
				doc["note"] = "not found (or not readable) when doctor ran"
			} else {
				doc["keys"] = keys
				doc["note"] = "key names only: the values are left out"
			}
			if err := addYAML(name, doc); err != nil {
				return nil, err
			}
		}
		if err := addYAML(path.Join("events", r.Metadata.Namespace, kind+"-"+r.Metadata.Name+".yaml"), ev.Events); err != nil {
			return nil, err
		}
	}
	if op != nil {
		for _, c := range op.Controllers {
			id := c.Deployment.Namespace + "-" + c.Deployment.Name
			if err := addYAML(path.Join("operator", id+"-deployment.yaml"), withoutEnvValues(c.Deployment)); err != nil {
				return nil, err
			}
			if c.LogErr != "" {
				add(path.Join("operator", id+"-logs.txt"), []byte("the logs could not be read: "+c.LogErr+"\n"))
			}
			for pod, lines := range c.Logs {
				add(path.Join("operator", id+"-"+pod+".log"), []byte(strings.Join(lines, "\n")+"\n"))
			}
		}
	}
	return files, nil
}

// withoutEnvValues is the Deployment with every environment value left out but the operator's
// own switches: an env var may hold a token.
func withoutEnvValues(dep *appsv1.Deployment) *appsv1.Deployment {
	dep = dep.DeepCopy()
	dep.Kind, dep.APIVersion = "Deployment", "apps/v1"
	for _, cs := range [][]corev1.Container{dep.Spec.Template.Spec.Containers, dep.Spec.Template.Spec.InitContainers} {
		for i := range cs {
			for j := range cs[i].Env {
				if e := &cs[i].Env[j]; e.Value != "" && !envKept[e.Name] {
					e.Value = redact.Marker
				}
			}
		}
	}
	delete(dep.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	return dep
}

// WriteTarGz writes files as a gzipped tar archive at path, atomically; an existing path is
// an *fsutil.ExistsError unless force.
func WriteTarGz(p string, files []File, force bool) error {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := time.Now().UTC().Truncate(time.Second)
	root := "atlas-doctor-" + now.Format("20060102-150405")
	for _, f := range files {
		hdr := &tar.Header{Name: root + "/" + f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return fsutil.WriteFile(p, buf.Bytes(), force)
}
