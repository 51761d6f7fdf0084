// Package testbed is the index of the project's test bed: every real part a test runs against,
// in one place. Each part fails with the command that provides it when it is missing; nothing
// is skipped.
//
//	controlplane   a real kube-apiserver + etcd (`make testbin`, bin/testbin) with the Atlas
//	               Operator's real CRDs; Main is the TestMain of packages that share one
//	               (internal/cluster, plugin/clustertest, plugin/secretleak)
//	databases      private PostgreSQL and MariaDB servers from Debian's packages, SQLite files
//	               (the migration-directory conversion tests apply to them)
//	operator       the real Atlas Operator (`make operator`) running out of cluster against the
//	               control plane and a real atlas, for `make e2e` (e2e/) and `make demo`
//	               (hack/demo)
//	argocd         a real Argo CD v3.5.1 (`make argocd`, bin/argocd): redis, repo-server and
//	               application-controller out of cluster against the control plane, syncing
//	               from local git repositories, for the GitOps journeys (e2e/gitops_test.go)
//	               and `make demo-gitops` (hack/demogitops)
//
// Who uses it: the journeys in e2e/ (build tag e2e, `make e2e`); the in-cluster verbs in
// plugin/clustertest and plugin/secretleak; internal/cluster's list/watch tests; the examples'
// server-side dry run; hack/demo and hack/bench/cluster. docs/e2e.md describes the e2e harness.
package testbed
