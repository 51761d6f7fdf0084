//go:build tools

// Package etcd pins the etcd server used by the tests' control plane.
package etcd

import _ "go.etcd.io/etcd/server/v3"
