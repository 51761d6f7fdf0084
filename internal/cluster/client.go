// Package cluster is the transport of the in-cluster verbs (status, wait, apply): a client built
// from kubectl's standard flags, paginated lists, a list+watch engine that survives watch expiry,
// "too old resource version" and API server restarts, a wait built on it, and errors that say
// what was denied or missing (credentials redacted). What the objects mean lives elsewhere:
// internal/atlas (kinds, versions), healthcheck (health), internal/status (the status records).
package cluster

import (
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// UserAgent identifies the plugin in API server audit logs.
const UserAgent = "kubectl-atlas"

// Client is a dynamic client plus the namespace the user asked for.
type Client struct {
	Config  *rest.Config
	Dynamic dynamic.Interface
	// Namespace is -n, else the kubeconfig context's namespace, else "default".
	Namespace string
	// ExplicitNamespace is true when -n was given (apply then refuses objects of another namespace).
	ExplicitNamespace bool

	flags      *genericclioptions.ConfigFlags
	mapperOnce sync.Once
	mapper     meta.RESTMapper
	mapperErr  error

	discoveryOnce sync.Once
	discovery     discovery.CachedDiscoveryInterface
	discoveryErr  error

	// hooks for tests of the watch engine (see watch.go).
	watchTimeoutSeconds int64
	wrapWatch           func(wi watchInterface) watchInterface
}

var quietKlog sync.Once

// New builds a client from kubectl's connection flags (--kubeconfig, --context, -n, ...).
func New(flags *genericclioptions.ConfigFlags) (*Client, error) {
	// client-go logs retries (e.g. while the API server restarts) through klog to stderr; the
	// verbs report trouble themselves, in one line, so those logs would only be noise.
	quietKlog.Do(func() { klog.SetLogger(logr.Discard()) })
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", Redacted(err))
	}
	ns, explicit, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the namespace from the kubeconfig: %w", Redacted(err))
	}
	c, err := NewForConfig(cfg, ns)
	if err != nil {
		return nil, err
	}
	c.ExplicitNamespace = explicit
	c.flags = flags
	return c, nil
}

// NewForConfig builds a client from a rest.Config (tests, benchmarks).
func NewForConfig(cfg *rest.Config, namespace string) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgent
	// The server's API Priority and Fairness protects it; client-side throttling at client-go's
	// default 5 requests/s would make a 60-object apply take seconds for nothing.
	cfg.QPS = 200
	cfg.Burst = 400
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the API client: %w", Redacted(err))
	}
	if namespace == "" {
		namespace = "default"
	}
	return &Client{Config: cfg, Dynamic: dyn, Namespace: namespace}, nil
}

// RESTMapper maps kinds to resources through the API server's discovery (cached on disk as
// kubectl does). Only apply needs it: status and wait know their resources.
func (c *Client) RESTMapper() (meta.RESTMapper, error) {
	c.mapperOnce.Do(func() {
		if c.flags != nil {
			c.mapper, c.mapperErr = c.flags.ToRESTMapper()
			return
		}
		c.mapper, c.mapperErr = newMapperForConfig(c.Config)
	})
	return c.mapper, c.mapperErr
}
