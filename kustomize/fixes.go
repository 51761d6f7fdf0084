package kustomize

import (
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
	"github.com/kubectl-atlas/kubectl-atlas/internal/scaffold"
)

// fieldNoteFixes phrase scaffold's notes for a generator config.
var fieldNoteFixes = scaffold.NoteFixes{
	scaffold.NoteNeedsToken:       "patch spec.cloud.tokenFrom of the generated resource with the Secret holding the token",
	scaffold.NoteInlinePassword:   "set spec.urlFrom to a Secret instead of spec.url",
	scaffold.NoteDefaultNamespace: "set metadata.namespace of the generator config for another one",
}

// fieldRemedies are the fixes a kustomize user makes in the generator's config; the same
// errors from `kubectl atlas init` name its flags instead.
var fieldRemedies = migdir.Remedies{
	SumMissing:  "%w; commit atlas.sum with the migrations of spec.dir",
	SumMismatch: "%w; commit atlas.sum with the migrations of spec.dir",
	Empty:       "%w: point spec.dir at the folder holding the migrations, or set spec.format if they come from another tool",
	WrongFormat: "%w (the directory looks like %[2]s: set spec.format: %[2]s)",
	Destructive: "spec.denyDestructive is set: %w",
}

func withFieldFix(err error) error { return migdir.WithRemedy(err, fieldRemedies) }
