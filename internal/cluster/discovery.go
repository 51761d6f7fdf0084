package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
)

// discoveryClient is kubectl's discovery client: cached on disk (~/.kube/cache/discovery, or
// --cache-dir, for 6 hours) when the client came from kubectl's flags, in memory otherwise.
func (c *Client) discoveryClient() (discovery.CachedDiscoveryInterface, error) {
	c.discoveryOnce.Do(func() {
		if c.flags != nil {
			c.discovery, c.discoveryErr = c.flags.ToDiscoveryClient()
			return
		}
		dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
		if err != nil {
			c.discoveryErr = err
			return
		}
		c.discovery = memory.NewMemCacheClient(dc)
	})
	return c.discovery, c.discoveryErr
}

// GroupKinds lists the namespaced kinds the cluster serves in group, at the group's preferred
// version, that can be listed and watched, ordered as atlas.SortKinds orders them; nil when the
// group is not served. It reads kubectl's discovery cache; fresh drops the cache first, as
// kubectl does when a resource type it was given is not in it.
func (c *Client) GroupKinds(group string, fresh bool) ([]atlas.Kind, error) {
	dc, err := c.discoveryClient()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", Redacted(err))
	}
	if fresh {
		dc.Invalidate()
	}
	groups, err := dc.ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", Redacted(err))
	}
	var gv string
	for _, g := range groups.Groups {
		if g.Name == group {
			gv = g.PreferredVersion.GroupVersion
		}
	}
	if gv == "" {
		return nil, nil
	}
	list, err := dc.ServerResourcesForGroupVersion(gv)
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", gv, Redacted(err))
	}
	return kindsOf(list), nil
}

func kindsOf(list *metav1.APIResourceList) []atlas.Kind {
	gv, err := schema.ParseGroupVersion(list.GroupVersion)
	if err != nil {
		return nil
	}
	var out []atlas.Kind
	for _, r := range list.APIResources {
		if strings.Contains(r.Name, "/") || !r.Namespaced || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "watch") {
			continue // subresources (status), and what status and wait could not list and watch
		}
		out = append(out, atlas.Kind{Kind: r.Kind, GVR: gv.WithResource(r.Name), Singular: r.SingularName, ShortNames: r.ShortNames})
	}
	atlas.SortKinds(out)
	return out
}

var selfSubjectAccessReviews = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}

// CanList asks the API server whether the user may list and watch gvr in namespace ns ("" for
// all namespaces), as `kubectl auth can-i list` does.
func (c *Client) CanList(ctx context.Context, gvr schema.GroupVersionResource, ns string) (bool, error) {
	review := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]any{
			"verb": "list", "group": gvr.Group, "version": gvr.Version, "resource": gvr.Resource, "namespace": ns,
		}},
	}}
	got, err := c.Dynamic.Resource(selfSubjectAccessReviews).Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, Redacted(err)
	}
	allowed, _, _ := unstructured.NestedBool(got.Object, "status", "allowed")
	return allowed, nil
}
