//go:build tools

// Package operator pins the Atlas Operator the e2e tests run (`make operator` builds its
// ./cmd into bin/atlas-operator). A module of its own keeps the operator's dependencies out of
// the plugin's go.mod.
package operator

import _ "github.com/ariga/atlas-operator/cmd"
