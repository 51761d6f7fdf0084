//go:build tools

// Package apiserver pins the kube-apiserver used by the tests' control plane.
package apiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
