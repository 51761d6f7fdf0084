// Package startup keeps the garbage collector off while the binary's packages initialize.
//
// Initialization allocates a few MiB of long-lived tables (API schemes, OpenAPI formats,
// regular expressions), enough for two collections before main runs; kubectl runs a plugin on
// every TAB, so that work is paid on every completion and every `version`. Nothing initialized
// here is garbage, so collecting then only costs time. Import it from main only: Go initializes
// packages in import-path order among those ready, so this one (which depends on runtime/debug
// alone) runs before the heavy k8s.io and sigs.k8s.io packages. main calls Done first thing.
package startup

import "runtime/debug"

var gcPercent = debug.SetGCPercent(-1)

// Done turns garbage collection back on, as it was before initialization.
func Done() { debug.SetGCPercent(gcPercent) }
