package cluster

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PageSize is the number of objects per list request: small enough that one response of large
// objects stays a few MB, large enough that 1,000 Atlas resources take two round trips.
const PageSize = 500

// Selector chooses objects of one resource: a namespace ("" = all), optionally one name and a
// label selector.
type Selector struct {
	GVR           schema.GroupVersionResource
	Namespace     string
	Name          string
	LabelSelector string
}

func (s Selector) listOptions() metav1.ListOptions {
	o := metav1.ListOptions{LabelSelector: s.LabelSelector}
	if s.Name != "" {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", s.Name).String()
	}
	return o
}

// List returns every object the selector matches, page by page, and the list's resourceVersion
// (where a watch can start). A continue token that expired mid-way restarts the list, as the
// pages would otherwise mix two points in time.
func (c *Client) List(ctx context.Context, sel Selector) ([]unstructured.Unstructured, string, error) {
	ri := c.Dynamic.Resource(sel.GVR).Namespace(sel.Namespace)
	for attempt := 0; ; attempt++ {
		opts := sel.listOptions()
		opts.Limit = PageSize
		var items []unstructured.Unstructured
		for {
			page, err := ri.List(ctx, opts)
			if apierrors.IsResourceExpired(err) && opts.Continue != "" && attempt < 3 {
				items = nil
				break
			}
			if err != nil {
				return nil, "", err
			}
			items = append(items, page.Items...)
			if page.GetContinue() == "" {
				return items, page.GetResourceVersion(), nil
			}
			opts.Continue = page.GetContinue()
		}
	}
}
