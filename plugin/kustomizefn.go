package plugin

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
	"github.com/kubectl-atlas/kubectl-atlas/kustomize"
)

const kustomizeFnLong = `The kustomize generator: a KRM function that kustomize runs (exec) to turn a migration
directory or a schema file next to a kustomization into the ConfigMap and AtlasMigration (or
AtlasSchema) that 'kubectl atlas init' writes for the same inputs. The ConfigMap gets a content
hash in its name, so every change of the directory rolls out under a new name, and the Atlas
resource follows it through namePrefix, nameSuffix and overlays (with the nameReference
configuration from --print-config under 'configurations:').

Config kinds (apiVersion ` + kustomize.APIVersion + `): ` + kustomize.KindMigrationGenerator + ` (spec.dir, spec.format)
and ` + kustomize.KindSchemaGenerator + ` (spec.schema, spec.configMap); both take spec.urlFrom,
spec.url, spec.devURLFrom, spec.devURL, spec.wave, spec.noWaves, spec.denyDestructive. Paths are
relative to the kustomization directory and must stay inside it.

kustomize needs BOTH flags to run it:
  kustomize build --enable-alpha-plugins --enable-exec DIR
  kubectl kustomize --enable-alpha-plugins --enable-exec DIR
With only --enable-alpha-plugins kustomize silently generates nothing and exits 0.
For Argo CD set kustomize.buildOptions: "--enable-alpha-plugins --enable-exec" in argocd-cm and
put kubectl-atlas on the repo server's PATH. See docs/kustomize.md.

Run by hand with a config file (paths relative to the working directory) to see what kustomize
gets, before hashing. Exit codes: 0 success, 1 invalid config or input (the error names the
generator and the file).`

const kustomizeFnExample = `  # generator.yaml, listed under 'generators:' in kustomization.yaml
  apiVersion: ` + kustomize.APIVersion + `
  kind: ` + kustomize.KindMigrationGenerator + `
  metadata:
    name: myapp
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: kubectl-atlas
          args: [kustomize-fn]
  spec:
    dir: migrations
    urlFrom:
      secretKeyRef: {name: myapp-db, key: url}

  # Print the generated objects without kustomize
  kubectl atlas kustomize-fn generator.yaml

  # The configurations: file that makes the Atlas resources follow hashed and prefixed names
  kubectl atlas kustomize-fn --print-config > kustomizeconfig.yaml`

// NewCmdKustomizeFn returns the kustomize generator's entry point. kustomize writes a
// ResourceList on stdin and reads one from stdout; with a file argument it runs standalone
// (the file is the function config, the objects are written as a YAML stream), as kyaml's
// fn/framework/command does for functions built on it.
func NewCmdKustomizeFn(streams genericiooptions.IOStreams) *cobra.Command {
	// "" resolves the config's paths against the working directory, which kustomize sets to the
	// kustomization directory: errors then name paths exactly as the user wrote them.
	fn := registeringSecrets(redact.For(streams.ErrOut), kustomize.Processor("", streams.ErrOut))
	var printConfig bool
	cmd := &cobra.Command{
		Use:           "kustomize-fn [CONFIG.yaml]",
		Short:         "The kustomize generator (KRM exec function): migration directory or schema file -> ConfigMap + Atlas resource",
		Long:          kustomizeFnLong,
		Example:       kustomizeFnExample,
		Args:          usageArgs(cobra.MaximumNArgs(1)),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, args []string) error {
			if printConfig {
				_, err := redact.Payload(streams.Out).Write(scaffold.NameReferenceConfig())
				return err
			}
			// The ResourceList is kustomize's input for the build: byte for byte (spec.url is
			// the user's). Errors and warnings go to stderr, redacted.
			rw := &kio.ByteReadWriter{Reader: streams.In, Writer: redact.Payload(streams.Out), KeepReaderAnnotations: true}
			if len(args) == 1 {
				config, err := readFunctionConfig(args[0])
				if err != nil {
					return fmt.Errorf("kustomize-fn: %w", err)
				}
				rw.FunctionConfig, rw.Reader, rw.NoWrap, rw.KeepReaderAnnotations = config, strings.NewReader(""), true, false
			}
			if err := kustomize.Execute(fn, rw); err != nil {
				return fmt.Errorf("kustomize-fn: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "Print the kustomize nameReference configuration for Atlas resources and exit")
	return cmd
}

// readFunctionConfig reads the standalone run's config file.
func readFunctionConfig(path string) (*kyaml.RNode, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("unable to read configuration file %q: %w", path, err)
	}
	n, err := kyaml.Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("unable to parse configuration file %q: %w", path, err)
	}
	return n, nil
}

// registeringSecrets tells r the secrets of the function config (spec.url, spec.devURL) and of
// the Secrets among the input items before p runs, so no error, warning or result can show them.
func registeringSecrets(r *redact.Redactor, p kustomize.Func) kustomize.Func {
	return func(rl *kustomize.ResourceList) error {
		if rl.FunctionConfig != nil {
			if m, err := rl.FunctionConfig.Map(); err == nil {
				registerObjectSecrets(r, m)
			}
		}
		for _, it := range rl.Items {
			if it.GetKind() == "Secret" {
				if m, err := it.Map(); err == nil {
					registerObjectSecrets(r, m)
				}
			}
		}
		return p(rl)
	}
}
