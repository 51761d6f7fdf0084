package kustomize

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The KRM function protocol, as kyaml's fn/framework speaks it (ResourceList, Result,
// Execute), written here so the plugin binary does not link the framework: its OpenAPI
// validation packages (kube-openapi's strfmt and validate) initialize on every start of the
// binary, about 3 ms, paid on every TAB completion. Tests check the output is byte for byte
// what framework.Execute writes for the same processor.

// ResourceList is what kustomize hands an exec function on stdin and reads back on stdout:
// the items, the function's own config and what the function reports.
type ResourceList struct {
	Items          []*kyaml.RNode
	FunctionConfig *kyaml.RNode
	Results        []Result
}

// Severity of a Result, as the KRM function specification names them.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Result is one entry of ResourceList.results (the fields of the specification the generator
// fills; the field names are the specification's).
type Result struct {
	Message  string            `yaml:"message,omitempty" json:"message,omitempty"`
	Severity Severity          `yaml:"severity,omitempty" json:"severity,omitempty"`
	File     *File             `yaml:"file,omitempty" json:"file,omitempty"`
	Tags     map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// File names the file a Result is about, relative to the kustomization.
type File struct {
	Path  string `yaml:"path,omitempty" json:"path,omitempty"`
	Index int    `yaml:"index,omitempty" json:"index,omitempty"`
}

// Func processes a ResourceList in place.
type Func func(*ResourceList) error

// Execute reads a ResourceList from rw, runs p on it and writes the items and results back,
// also when p fails (kustomize shows the results of a failed function), then returns p's error.
func Execute(p Func, rw *kio.ByteReadWriter) error {
	var (
		rl  ResourceList
		err error
	)
	if rl.Items, err = rw.Read(); err != nil {
		return fmt.Errorf("failed to read ResourceList input: %w", err)
	}
	rl.FunctionConfig = rw.FunctionConfig
	// kustomize's internal path/index annotations and their legacy twins must stay in step
	// when a function changes either; kio keeps them so around the call.
	annos, err := kio.PreprocessResourcesForInternalAnnotationMigration(rl.Items)
	if err != nil {
		return err
	}
	pErr := p(&rl)
	if err := kio.ReconcileInternalAnnotations(rl.Items, annos); err != nil {
		return err
	}
	if len(rl.Results) > 0 {
		b, err := kyaml.Marshal(rl.Results)
		if err != nil {
			return err
		}
		if rw.Results, err = kyaml.Parse(string(b)); err != nil {
			return err
		}
	}
	if err := rw.Write(rl.Items); err != nil {
		return err
	}
	return pErr
}
