package kustomize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// Processor is the KRM function: it reads the functionConfig of the ResourceList, replaces
// the generator's own config among the items (kustomize passes a copy of it) by the generated
// objects and keeps any other item. Paths in the config are relative to dir, "" meaning the
// working directory (kustomize runs exec functions in the kustomization directory), so errors
// name paths as the user wrote them. Notes and warnings go to warn, and to the ResourceList's
// results redacted with warn's Redactor (redact.For): the ResourceList passes no redacting
// Writer.
func Processor(dir string, warn io.Writer) Func {
	red := redact.For(warn)
	return func(rl *ResourceList) error {
		if rl.FunctionConfig == nil {
			return fmt.Errorf("no functionConfig: run me from kustomize (generators: [file with kind %s or %s]) or as `kubectl atlas kustomize-fn CONFIG.yaml`", KindMigrationGenerator, KindSchemaGenerator)
		}
		cfg, err := rl.FunctionConfig.String()
		if err != nil {
			return err
		}
		id, res, err := generateConfig([]byte(cfg), dir, red)
		if res != nil {
			report(rl, warn, red, id, res.Diagnostics)
		}
		if err != nil {
			return err
		}
		objs := res.Unstructured()
		var items []*kyaml.RNode
		for _, it := range rl.Items {
			if isGeneratorConfig(it) {
				continue
			}
			items = append(items, it)
		}
		for _, u := range objs {
			b, err := scaffold.YAML(u)
			if err != nil {
				return err
			}
			n, err := kyaml.Parse(string(b))
			if err != nil {
				return err
			}
			items = append(items, n)
		}
		rl.Items = items
		return nil
	}
}

func isGeneratorConfig(n *kyaml.RNode) bool {
	return n.GetApiVersion() == APIVersion && (n.GetKind() == KindMigrationGenerator || n.GetKind() == KindSchemaGenerator)
}

// Generate builds the objects one generator config describes, exactly as `kubectl atlas init`
// builds them for the same inputs, with the ConfigMaps marked for kustomize's content hash.
// What the user should know about the inputs goes to warn.
func Generate(config []byte, dir string, warn io.Writer) ([]*unstructured.Unstructured, error) {
	id, res, err := generateConfig(config, dir, redact.For(warn))
	if res != nil {
		report(nil, warn, nil, id, res.Diagnostics)
	}
	if err != nil {
		return nil, err
	}
	return res.Unstructured(), nil
}

// report writes each diagnostic on warn, after the generator it concerns, and adds it to the
// ResourceList's results (rl may be nil), where kustomize users and tools look for them,
// redacted with red.
func report(rl *ResourceList, warn io.Writer, red *redact.Redactor, id string, diags []diag.Diagnostic) {
	for _, d := range diags {
		text := fieldTerms.Fixes.Text(d)
		fmt.Fprintf(warn, "%s: %s: %s\n", d.Severity, id, text)
		if rl == nil {
			continue
		}
		r := Result{Message: red.String(id + ": " + text), Severity: Info}
		if d.Severity == diag.Warning {
			r.Severity = Warning
		}
		if d.File != "" {
			r.File = &File{Path: red.String(d.File)}
		}
		if d.Code != "" {
			r.Tags = map[string]string{"code": d.Code}
		}
		rl.Results = append(rl.Results, r)
	}
}

// generateConfig runs the generation one config describes; id names the config for messages.
// The Result, when not nil, holds the diagnostics found, also on an error. The credentials of
// spec.lintDevURL are registered with red.
func generateConfig(config []byte, dir string, red *redact.Redactor) (string, *generate.Result, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(config, &tm); err != nil {
		return "", nil, fmt.Errorf("generator config: %w", err)
	}
	if tm.APIVersion != APIVersion || (tm.Kind != KindMigrationGenerator && tm.Kind != KindSchemaGenerator) {
		return "", nil, fmt.Errorf("generator config %s/%s %q: want apiVersion %s and kind %s or %s", tm.APIVersion, tm.Kind, tm.Metadata.Name, APIVersion, KindMigrationGenerator, KindSchemaGenerator)
	}
	id := fmt.Sprintf("%s %q", tm.Kind, tm.Metadata.Name)
	var (
		req *generate.Request
		err error
	)
	switch tm.Kind {
	case KindMigrationGenerator:
		var g MigrationGenerator
		if err := yaml.UnmarshalStrict(config, &g); err != nil {
			return id, nil, decodeError(id, err)
		}
		req, err = g.request(dir, red)
	case KindSchemaGenerator:
		var g SchemaGenerator
		if err := yaml.UnmarshalStrict(config, &g); err != nil {
			return id, nil, decodeError(id, err)
		}
		req, err = g.request(dir)
	}
	if err != nil {
		return id, nil, fmt.Errorf("%s: %w", id, err)
	}
	req.Options.ConfigMapNeedsHash = true
	res, err := generate.Generate(*req)
	if err == nil && res.Dir != nil {
		// The generator reads the repository and never writes it (Argo CD's repo server): a
		// ledger that lacks this change's versions is refused, not rendered with a warning
		// nobody sees there, since the next change would turn the AtlasMigration Degraded.
		err = res.Dir.CheckLedger()
	}
	if err != nil {
		return id, res, fmt.Errorf("%s: %w", id, fieldTerms.Error(err))
	}
	return id, res, nil
}

// decodeError drops the decoder's layers ("error unmarshaling JSON: while decoding JSON: json:")
// so the message reads as what is wrong in the config.
func decodeError(id string, err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, "json: "); i >= 0 {
		msg = msg[i+len("json: "):]
	}
	return fmt.Errorf("%s: %s (see docs/kustomize.md for the fields)", id, msg)
}

func (g *MigrationGenerator) request(dir string, red *redact.Redactor) (*generate.Request, error) {
	if g.Spec.Dir == "" {
		return nil, errors.New("spec.dir is required: the migration directory, relative to the kustomization")
	}
	path, err := localPath(dir, "spec.dir", g.Spec.Dir)
	if err != nil {
		return nil, err
	}
	opts, err := g.Spec.Target.options(g.Name, g.Namespace)
	if err != nil {
		return nil, err
	}
	opts.DenyDestructive = g.Spec.DenyDestructive
	// Diagnostics and errors name the directory as the user wrote it.
	req := &generate.Request{Options: *opts, Dir: path, DirShown: g.Spec.Dir, Read: migdir.Options{Format: g.Spec.Format}, Baseline: g.Spec.Baseline}
	if g.Spec.LintDevURL != "" {
		red.AddURL(g.Spec.LintDevURL)
		req.Lint = generate.LintWith(context.Background(), g.Spec.LintDevURL)
	}
	return req, nil
}

func (g *SchemaGenerator) request(dir string) (*generate.Request, error) {
	if g.Spec.Schema == "" {
		return nil, errors.New("spec.schema is required: the schema file (.sql or .hcl), relative to the kustomization")
	}
	path, err := localPath(dir, "spec.schema", g.Spec.Schema)
	if err != nil {
		return nil, err
	}
	opts, err := g.Spec.Target.options(g.Name, g.Namespace)
	if err != nil {
		return nil, err
	}
	opts.SchemaConfigMap = g.Spec.ConfigMap
	opts.DenyDestructive = g.Spec.DenyDestructive
	return &generate.Request{Options: *opts, Schema: path, SchemaShown: g.Spec.Schema}, nil
}

func (t Target) options(name, namespace string) (*scaffold.Options, error) {
	opts := &scaffold.Options{Name: name, Namespace: namespace, URL: t.URL, DevURL: t.DevURL, NoWaves: t.NoWaves}
	if t.Wave != nil {
		w := scaffold.DefaultWaves
		w.Schema = *t.Wave
		opts.Waves = &w
	}
	var err error
	if opts.URLSecret, err = secretRef("spec.urlFrom", t.URLFrom); err != nil {
		return nil, err
	}
	if opts.DevURLSecret, err = secretRef("spec.devURLFrom", t.DevURLFrom); err != nil {
		return nil, err
	}
	return opts, nil
}

func secretRef(field string, s *SecretSource) (*scaffold.SecretRef, error) {
	if s == nil {
		return nil, nil
	}
	if s.SecretKeyRef == nil || s.SecretKeyRef.Name == "" {
		return nil, fmt.Errorf("%s.secretKeyRef.name is required", field)
	}
	r, err := scaffold.ParseSecretRef(s.SecretKeyRef.Name+":"+s.SecretKeyRef.Key, "url")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &r, nil
}

// localPath resolves p against the kustomization directory and refuses anything outside it,
// symlinks included, as kustomize's default load restrictor does for its own generators: a
// repository must not be able to pack the files of the machine that builds it (an Argo CD repo
// server) into a ConfigMap.
func localPath(dir, field, p string) (string, error) {
	if filepath.IsAbs(p) || !filepath.IsLocal(filepath.FromSlash(p)) {
		return "", fmt.Errorf("%s %q must be a relative path inside the kustomization directory (kustomize's load restrictor rule): move the generator into a kustomization at or above it", field, p)
	}
	full := filepath.Join(dir, filepath.FromSlash(p))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		// A missing path: Read reports it in its own words.
		if errors.Is(err, fs.ErrNotExist) {
			return full, nil
		}
		return "", err
	}
	if dir == "" {
		dir = "."
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%s %q leads outside the kustomization directory through a symlink (to %s)", field, p, real)
	}
	return full, nil
}
