package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// ErrCRDsMissing is the Atlas Operator's CRDs not being served by the cluster.
var ErrCRDsMissing = errors.New("the Atlas Operator CRDs (" + atlas.Group + ") are not installed in this cluster: " +
	"install the operator (helm install atlas-operator oci://ghcr.io/ariga/charts/atlas-operator) or point --context at the cluster that runs it")

// Redacted is err with credentials removed from its text; errors.Is and errors.As still see
// the cause (a context deadline that expired inside a request, an API status).
func Redacted(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return redact.String(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// Resource names a resource as kubectl does: atlasmigrations.db.atlasgo.io, deployments.apps, pods.
func Resource(gvr schema.GroupVersionResource) string {
	return gvr.GroupResource().String()
}

// Explain turns an error of verb on gvr in namespace ns ("" for all namespaces or cluster scope)
// into one that says what was denied or missing and what to do next. Credentials are redacted.
func Explain(err error, verb string, gvr schema.GroupVersionResource, ns string) error {
	if err == nil {
		return nil
	}
	where := "in all namespaces"
	if ns != "" {
		where = fmt.Sprintf("in namespace %q", ns)
	}
	res := Resource(gvr)
	cause := Redacted(err)
	switch {
	case IsResourceMissing(err) && gvr.Group == atlas.Group:
		return ErrCRDsMissing
	case IsResourceMissing(err):
		return fmt.Errorf("the cluster does not serve %s (is its CRD installed?): %w", res, cause)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("not allowed to %s %s %s (RBAC): %w\n"+
			"Ask for a Role (or ClusterRole with -A) that grants get, list and watch on %s.", verb, res, where, cause, res)
	case apierrors.IsUnauthorized(err):
		return &redactedError{&unauthorized{err}}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s %s cut short: %w", verb, res, where, cause)
	case !isAPIStatus(err):
		return fmt.Errorf("cannot reach the API server: %w", cause)
	}
	return fmt.Errorf("%s %s %s: %w", verb, res, where, cause)
}

// unauthorized replaces a 401's text (which may echo the token's source) with what to do.
type unauthorized struct{ err error }

func (e *unauthorized) Error() string {
	return "the API server rejected the credentials of the current kubeconfig user (401 Unauthorized): log in again or refresh the token"
}
func (e *unauthorized) Unwrap() error { return e.err }

// IsResourceMissing is a 404 for a whole resource (its CRD is not installed), not for one object.
func IsResourceMissing(err error) bool {
	if !apierrors.IsNotFound(err) {
		return false
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	// An object lookup names the object; a missing resource does not (or the server's generic
	// "the server could not find the requested resource" has no details at all).
	return d == nil || d.Name == "" || strings.Contains(st.Status().Message, "could not find the requested resource")
}

// IsFatal reports errors that retrying cannot fix: denied, missing resource, bad request.
func IsFatal(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || IsResourceMissing(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) || apierrors.IsMethodNotSupported(err)
}

func isAPIStatus(err error) bool {
	var st apierrors.APIStatus
	return errors.As(err, &st)
}
