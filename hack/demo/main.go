// Command demo is the cluster side of hack/demo.sh (`make demo`).
//
//	demo controlplane -kubeconfig FILE   start kube-apiserver + etcd with the Atlas Operator's CRDs
//	                                     (internal/testbed/controlplane), write an admin kubeconfig to FILE, and
//	                                     run until SIGINT/SIGTERM, then stop them and remove FILE
//	demo up -kubeconfig FILE -resource NS/NAME
//	                                     the same control plane plus the real Atlas Operator
//	                                     (bin/atlas-operator, running $E2E_ATLAS: internal/testbed/operator),
//	                                     ready for the Atlas resource NS/NAME
//	demo operator -kubeconfig FILE -n NS NAME
//	                                     play the Atlas Operator for AtlasMigration NAME: write its
//	                                     status the way operator v0.7.37 does (first Reconciling,
//	                                     then Applied at the target version) through the status
//	                                     subresource
//
// The real operator needs an atlas CLI; without one the demo plays the operator with `demo
// operator` and says so plainly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/controlplane"
	"github.com/kubectl-atlas/kubectl-atlas/internal/testbed/operator"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: demo controlplane|operator [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	switch args[0] {
	case "controlplane":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return controlPlane(*kubeconfig)
	case "up":
		resource := fs.String("resource", "default/app", "the Atlas resource NS/NAME the operator will reconcile")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return up(*kubeconfig, *resource)
	case "operator":
		ns := fs.String("n", "default", "namespace")
		delay := fs.Duration("delay", 2*time.Second, "time between the Reconciling and the Applied status")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("operator: one AtlasMigration name is required")
		}
		return playOperator(*kubeconfig, *ns, fs.Arg(0), *delay)
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func controlPlane(kubeconfig string) error {
	if kubeconfig == "" {
		return errors.New("-kubeconfig is required")
	}
	// Catch the signals before starting, so a quick Ctrl-C still stops what was started.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	env, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		return err
	}
	defer os.Remove(kubeconfig)
	if err := publish(env.Kubeconfig, kubeconfig); err != nil {
		return errors.Join(err, env.Stop())
	}
	<-sig
	return env.Stop()
}

// up runs the control plane and the real operator until SIGINT/SIGTERM.
func up(kubeconfig, resource string) error {
	ns, name, ok := strings.Cut(resource, "/")
	if kubeconfig == "" || !ok {
		return errors.New("-kubeconfig and -resource NS/NAME are required")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	h, err := operator.Start(context.Background(), operator.Options{})
	if err != nil {
		return err
	}
	defer os.Remove(kubeconfig)
	if err := h.PrepareHome(ns, name); err != nil {
		return errors.Join(err, h.Stop())
	}
	fmt.Fprintf(os.Stderr, "Atlas Operator %s running %s (%s)\n", operator.Version, h.Atlas, h.AtlasVersion)
	if err := publish(h.Env.Kubeconfig, kubeconfig); err != nil {
		return errors.Join(err, h.Stop())
	}
	<-sig
	return h.Stop()
}

// publish copies the admin kubeconfig to path under a temporary name and renames it: the script
// waits for the file to appear.
func publish(from, path string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func playOperator(kubeconfig, ns, name string, delay time.Duration) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	op := operator.Fake{Client: dyn, FieldManager: "atlas-operator-demo"}
	// What the operator writes while it works on a new generation, then when atlas succeeded.
	u, err := op.Set(ctx, atlas.KindAtlasMigration, ns, name, operator.Reconciling)
	if err != nil {
		return err
	}
	time.Sleep(delay)
	_, err = op.Set(ctx, atlas.KindAtlasMigration, ns, name, operator.Applied(u.GetAnnotations()[atlas.TargetVersionAnnotation]))
	return err
}
