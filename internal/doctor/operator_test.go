package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The operator's flags in each spelling Go's flag package accepts, as v0.7.37's cmd/main.go
// reads them; the version from the image tag.
func TestControllerFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--namespace=a, b", "--label-selector=team=x"},
		{"--namespace", "a,b", "--label-selector", "team=x"},
		{"-namespace=a,b", "-label-selector=team=x"},
	} {
		dep := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "sidecar", Image: "envoy:1"},
			{Name: "manager", Image: "ghcr.io/ariga/atlas-operator:v0.7.37", Args: args},
		}}}}}
		c := (&Doctor{}).controllerOf(dep)
		assert.Equal(t, []string{"a", "b"}, c.Namespaces, args)
		assert.Equal(t, "team=x", c.SelectorText, args)
		assert.True(t, c.Selector.Matches(labels.Set{"team": "x"}))
		assert.Equal(t, "0.7.37", c.Version)
		assert.Equal(t, "default", c.ServiceAccount)
	}
	assert.True(t, isOperator(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "atlas-operator"}}}))
	assert.False(t, isOperator(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "atlas-dev-db", "app.kubernetes.io/part-of": "atlas-operator"}}}))
}

func TestMentions(t *testing.T) {
	assert.True(t, mentions(`{"level":"info","AtlasMigration":{"name":"app","namespace":"shop"}}`, "shop", "app"))
	assert.True(t, mentions(`reconciling shop/app`, "shop", "app"))
	assert.False(t, mentions(`{"name":"app","namespace":"other"}`, "shop", "app"))
	assert.False(t, mentions(`reconciling shop/application`, "shop", "app"))
	assert.True(t, mentions(`reconciling shop/application and shop/app`, "shop", "app"))
}

// The operator's log lines about the resource: the last LogLines of them, from every Pod.
func TestCheckLogs(t *testing.T) {
	d := New(nil, Options{LogLines: 2})
	r := &run{d: d, ns: "shop", name: "app"}
	c := Controller{Deployment: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "atlas", Name: "op"}}, Logs: map[string][]string{
		"op-1": {`{"msg":"Reconciling","AtlasMigration":{"name":"app","namespace":"shop"}}`, `{"msg":"other","AtlasMigration":{"name":"web","namespace":"shop"}}`,
			`{"msg":"applied","AtlasMigration":{"name":"app","namespace":"shop"}}`, `error shop/app: checksum mismatch`},
	}}
	r.checkLogs(c)
	require.Len(t, r.findings, 1)
	f := r.findings[0]
	assert.Equal(t, Info, f.Severity)
	assert.Equal(t, "the operator's last 2 log line(s) about it:\n"+`{"msg":"applied","AtlasMigration":{"name":"app","namespace":"shop"}}`+"\nerror shop/app: checksum mismatch", f.Saw)
	assert.Len(t, r.ev.LogLines, 3)

	r = &run{d: d, ns: "shop", name: "app"}
	r.checkLogs(Controller{Deployment: c.Deployment, LogErr: "cannot read the logs of its Pods: not allowed (RBAC)"})
	assert.Equal(t, "the logs of operator atlas/op cannot be read: cannot read the logs of its Pods: not allowed (RBAC)", r.findings[0].Saw)
}
