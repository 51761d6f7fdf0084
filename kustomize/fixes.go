package kustomize

import (
	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/generate"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// fieldTerms are the words of a kustomize user for what the generation reports: the config
// fields that name each input and fix each case; the same reports from `kubectl atlas init`
// name its flags instead.
var fieldTerms = generate.Terms{
	Inputs: map[string]string{generate.InputBaseline: "spec.baseline"},
	Fixes: diag.Fixes{
		scaffold.NoteNeedsToken:       "patch spec.cloud.tokenFrom of the generated resource with the Secret holding the token",
		scaffold.NoteInlinePassword:   "set spec.urlFrom to a Secret instead of spec.url",
		scaffold.NoteDefaultNamespace: "set metadata.namespace of the generator config for another one",
	},
	Remedies: migdir.Remedies{
		SumMissing:  "%w; commit atlas.sum with the migrations of spec.dir",
		SumMismatch: "%w; commit atlas.sum with the migrations of spec.dir",
		Empty:       "%w: point spec.dir at the folder holding the migrations, or set spec.format if they come from another tool",
		WrongFormat: "%w (the directory looks like %[2]s: set spec.format: %[2]s)",
		Destructive: "spec.denyDestructive is set: %w",
		SchemaDir:   "%w: spec.schema takes one .sql or .hcl file (use an " + KindMigrationGenerator + " for a migration directory)",
	},
}
