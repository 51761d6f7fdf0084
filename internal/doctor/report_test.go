package doctor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// The bundle's files pass no redacting stream: Bundle masks with the Doctor's Redactor the
// secrets it knows (here one with no credential shape), wherever they are, and the shapes.
func TestBundleMasksKnownSecrets(t *testing.T) {
	const secret = "Zq8PlainBundleSecret"
	red := redact.New()
	red.Add(secret)
	d := New(nil, Options{Redactor: red})
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigration",
		"metadata": map[string]any{"name": "app", "namespace": "shop"}, "spec": map[string]any{"note": secret}}}
	res := Result{Kind: "AtlasMigration", Metadata: Meta{Name: "app", Namespace: "shop"}, Evidence: Evidence{
		Object:     obj,
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "app-migrations"}, Data: map[string]string{"1.sql": "-- " + secret}}},
		Events:     []corev1.Event{{Reason: "Failed", Message: "Error: " + secret + " password=hunter22"}},
	}}
	files, err := d.Bundle([]Result{res}, nil, Versions{}, []byte("saw "+secret+"\n"), []byte(`{"saw":"`+secret+`"}`))
	require.NoError(t, err)
	names := map[string]string{}
	for _, f := range files {
		names[f.Name] = string(f.Data)
		assert.NotContains(t, string(f.Data), secret, f.Name)
		assert.NotContains(t, string(f.Data), "hunter22", f.Name)
	}
	assert.Equal(t, "saw xxxxx\n", names["findings.txt"])
	require.Contains(t, names, "events/shop/atlasmigration-app.yaml")
	assert.True(t, strings.Contains(names["events/shop/atlasmigration-app.yaml"], "Error: xxxxx password=xxxxx"), names["events/shop/atlasmigration-app.yaml"])

	plain, err := New(nil, Options{}).Bundle([]Result{res}, nil, Versions{}, []byte("saw "+secret+"\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, "saw "+secret+"\n", string(plain[1].Data), "another Doctor's Redactor does not know it")
}
