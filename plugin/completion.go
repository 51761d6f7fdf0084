package plugin

import (
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/klog/v2"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// Shell completion of live names, as `kubectl get pods <TAB>` does: names come from the
// cluster, and any error (no kubeconfig, unreachable server, RBAC) completes nothing and prints
// nothing, since the shell shows whatever a completion writes.

// completionTimeout bounds the cluster lookups of one completion: the shell waits on it.
const completionTimeout = 3 * time.Second

// atlasTypes are the resource types completed before a slash, in the form users type.
var atlasTypes = []string{strings.ToLower(atlas.KindAtlasMigration), strings.ToLower(atlas.KindAtlasSchema)}

// completeWaitArgs completes KIND/NAME: the Atlas kinds followed by a slash, then their names.
func completeWaitArgs(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
			return withType(typ, liveNames(flags, prefix, false, typ)), cobra.ShellCompDirectiveNoFileComp
		}
		return typesWithSlash(toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completeStatusArgs completes NAME (of either kind) and KIND/NAME.
func completeStatusArgs(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
			return withType(typ, liveNames(flags, prefix, false, typ)), cobra.ShellCompDirectiveNoFileComp
		}
		all := allNamespaces(cmd)
		names := liveNames(flags, toComplete, all, atlasTypes...)
		slices.Sort(names)
		return slices.Compact(names), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeHistoryArgs completes the name of an AtlasMigration (NAME or atlasmigration/NAME).
func completeHistoryArgs(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
			return withType(typ, liveNames(flags, prefix, false, typ)), cobra.ShellCompDirectiveNoFileComp
		}
		return liveNames(flags, toComplete, false, strings.ToLower(atlas.KindAtlasMigration)), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeHealthcheckArgs completes TYPE/NAME and TYPE NAME for any resource type, as kubectl get.
func completeHealthcheckArgs(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		all := allNamespaces(cmd)
		if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
			return withType(typ, liveNames(flags, prefix, all, typ)), cobra.ShellCompDirectiveNoFileComp
		}
		if len(args) > 0 && !strings.Contains(args[0], "/") {
			return liveNames(flags, toComplete, all, args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return typesWithSlash(toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// registerNamespaceCompletion completes -n/--namespace with the cluster's namespaces.
func registerNamespaceCompletion(cmd *cobra.Command, flags *genericclioptions.ConfigFlags) {
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return liveNames(flags, toComplete, false, "namespaces"), cobra.ShellCompDirectiveNoFileComp
	})
}

func typesWithSlash(prefix string) []string {
	var out []string
	for _, t := range atlasTypes {
		if strings.HasPrefix(t, strings.ToLower(prefix)) {
			out = append(out, t+"/")
		}
	}
	return out
}

func withType(typ string, names []string) []string {
	for i, n := range names {
		names[i] = typ + "/" + n
	}
	return names
}

func allNamespaces(cmd *cobra.Command) bool {
	all, _ := cmd.Flags().GetBool("all-namespaces")
	return all
}

// liveNames lists the names of objects of the given types (kubectl's spelling: plural, singular,
// short name, TYPE.GROUP) starting with prefix, in -n's namespace or all of them. It gives up
// after completionTimeout; the abandoned lookup ends with its own request timeout.
func liveNames(flags *genericclioptions.ConfigFlags, prefix string, allNamespaces bool, types ...string) []string {
	klog.SetLogger(logr.Discard()) // client-go logs failed requests to stderr, which the shell would show
	if flags.Timeout == nil || *flags.Timeout == "" || *flags.Timeout == "0" {
		t := completionTimeout.String()
		flags.Timeout = &t // --request-timeout, unless the user chose one
	}
	done := make(chan []string, 1)
	go func() { done <- listNames(flags, prefix, allNamespaces, types) }()
	select {
	case names := <-done:
		return names
	case <-time.After(completionTimeout):
		return nil
	}
}

func listNames(flags *genericclioptions.ConfigFlags, prefix string, allNamespaces bool, types []string) []string {
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil
	}
	infos, err := resource.NewBuilder(flags).Unstructured().
		NamespaceParam(ns).DefaultNamespace().AllNamespaces(allNamespaces).
		ResourceTypes(types...).SelectAllParam(true).
		ContinueOnError().Flatten().
		Do().Infos()
	if err != nil && len(infos) == 0 {
		return nil
	}
	var names []string
	for _, info := range infos {
		if strings.HasPrefix(info.Name, prefix) {
			names = append(names, info.Name)
		}
	}
	return names
}
