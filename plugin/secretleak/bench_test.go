package secretleak

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
	"github.com/kubectl-atlas/kubectl-atlas/plugin"
)

var (
	benchOnce sync.Once
	benchNS   string
)

// benchNamespace holds 1,000 AtlasMigrations, every one failed with an operator message that
// quotes a database URL with its password (the redactor's worst case: every line matches).
func benchNamespace(b *testing.B) string {
	benchOnce.Do(func() {
		benchNS = newNamespace(b, "bench")
		for i := range 1000 {
			failAs(b, benchNS, atlas.KindAtlasMigration, fmt.Sprintf("m-%04d", i), "Migrating",
				fmt.Sprintf("Error: connecting to postgres://app:pw%04d@db:5432/app: connection refused", i))
		}
	})
	return benchNS
}

// BenchmarkStatus1000: `kubectl atlas status` over 1,000 resources against the test control
// plane, the same verb with its streams straight (raw) and through the choke point (redacted),
// for the table, -o wide and -o json. The difference is the choke point's cost.
func BenchmarkStatus1000(b *testing.B) {
	ns := benchNamespace(b)
	for _, output := range []string{"", "wide", "json"} {
		for _, mode := range []string{"raw", "redacted"} {
			name := output
			if name == "" {
				name = "table"
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				for b.Loop() {
					streams := genericiooptions.IOStreams{Out: io.Discard, ErrOut: io.Discard}
					var w *redact.Writer
					if mode == "redacted" {
						w = redact.NewWriter(io.Discard, nil)
						streams.Out, streams.ErrOut = w, w
					}
					flags := genericclioptions.NewConfigFlags(true)
					kc, n := env.Kubeconfig, ns
					flags.KubeConfig, flags.Namespace = &kc, &n
					cmd := plugin.NewCmdStatus(streams, flags)
					cmd.SetArgs([]string{"-o", output})
					if err := cmd.ExecuteContext(context.Background()); err != nil {
						b.Fatal(err)
					}
					if w != nil {
						_ = w.Flush()
					}
				}
			})
		}
	}
}
