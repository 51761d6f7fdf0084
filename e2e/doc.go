// Package e2e holds the user journeys of kubectl atlas against the real Atlas Operator: the
// operator v0.7.37 binary (hack/operator) running out of cluster against the test control plane,
// executing a real atlas CLI against SQLite files and a private PostgreSQL (internal/testbed/operator). Each
// journey runs the plugin through its root command as a user would and checks stdout, stderr,
// the exit code and what the database holds afterwards.
//
// The tests carry the build tag e2e and run only under `make e2e`, which builds the operator and
// finds or builds atlas first. A missing part fails the run; nothing is skipped.
//
//	make e2e                 every journey
//	make e2e RECORD=1        also rewrite the recorded health fixtures in healthcheck/resource_customizations
package e2e
