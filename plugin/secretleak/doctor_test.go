package secretleak

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// redactCases are the shapes of internal/redact/testdata/cases.json whose secret is one span:
// the text, and the part of it the redactor must mask (what differs between in and want).
func redactCases(t *testing.T) []shape {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "redact", "testdata", "cases.json"))
	require.NoError(t, err)
	var cases []struct{ In, Want string }
	require.NoError(t, json.Unmarshal(b, &cases))
	var out []shape
	for i, c := range cases {
		if c.In == c.Want {
			continue
		}
		p := 0
		for p < len(c.In) && p < len(c.Want) && c.In[p] == c.Want[p] {
			p++
		}
		s := 0
		for s < len(c.In)-p && s < len(c.Want)-p && c.In[len(c.In)-1-s] == c.Want[len(c.Want)-1-s] {
			s++
		}
		secret, masked := c.In[p:len(c.In)-s], c.Want[p:len(c.Want)-s]
		if masked != redact.Marker || len(secret) < redact.MinSecretLen {
			continue // several spans, or a short one that also occurs in plain words
		}
		out = append(out, shape{name: fmt.Sprintf("cases.json #%d", i), secret: secret, text: c.In})
	}
	require.NotEmpty(t, out)
	return out
}

// doctor and its --report bundle: the corpus, and a value known only as Secret data, planted in
// the Secret the resources reference (the URL and every other key), in an inline spec URL, in the operator's condition messages, in
// Events, in the migrations ConfigMap and in the operator Deployment's environment; neither
// the output nor any file of the bundle holds one of them.
func TestDoctorReport(t *testing.T) {
	ctx := context.Background()
	// and a value with no credential shape, which only the Secret's data tells is secret: the
	// bundle's files pass no redacting stream, doctor masks them with the command's Redactor
	shapes := append(corpus("doc"), shape{"known only", "SxdocPlainqK9", "SxdocPlainqK9"})
	cases := redactCases(t)
	ns := newNamespace(t, "doc")
	opNS := newNamespace(t, "docop")

	data := map[string]string{"url": shapes[0].text}
	for i, sh := range append(append([]shape{}, shapes...), cases...) {
		data[fmt.Sprintf("k%02d", i)] = sh.text
	}
	_, err := kc.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: data}, metav1.CreateOptions{})
	require.NoError(t, err)
	var sql strings.Builder
	for _, sh := range shapes {
		fmt.Fprintf(&sql, "-- %s\n", sh.text)
	}
	for i := range shapes {
		_, err = kc.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("m-%d-migrations", i)},
			Data: map[string]string{"1_init.sql": sql.String() + "CREATE TABLE t (id int);\n"}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	var objs []*unstructured.Unstructured
	for i, sh := range shapes {
		objs = append(objs, failAs(t, ns, atlas.KindAtlasMigration, fmt.Sprintf("m-%d", i), "ReadingMigrationData", "Error: "+sh.text+"\nsecond line "+sh.text))
	}
	inline := &unstructured.Unstructured{Object: map[string]any{"apiVersion": atlas.Group + "/" + atlas.Version, "kind": atlas.KindAtlasMigration,
		"metadata": map[string]any{"name": "inline", "namespace": ns},
		"spec":     map[string]any{"url": shapes[1].text, "devURL": shapes[2].text, "dir": map[string]any{"local": map[string]any{"1.sql": shapes[5].text}}}}}
	_, err = dyn.Resource(atlas.MigrationGVR).Namespace(ns).Create(ctx, inline, metav1.CreateOptions{})
	require.NoError(t, err)
	for i, c := range cases {
		o := objs[i%len(objs)]
		_, err = kc.CoreV1().Events(ns).Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("ev-%d", i)},
			InvolvedObject: corev1.ObjectReference{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: ns, Name: o.GetName(), UID: o.GetUID()},
			Reason:         "TransientErr", Type: corev1.EventTypeWarning, Message: c.text,
			Source: corev1.EventSource{Component: "atlasmigration-controller"}, FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	labels := map[string]string{"app.kubernetes.io/name": "atlas-operator"}
	_, err = kc.AppsV1().Deployments(opNS).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "atlas-operator", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "manager", Image: "arigaio/atlas-operator:0.7.37",
				Env: []corev1.EnvVar{{Name: "ATLAS_TOKEN", Value: shapes[15].secret}, {Name: "DB", Value: shapes[0].text}},
			}}}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = kc.AppsV1().Deployments(opNS).Delete(context.Background(), "atlas-operator", metav1.DeleteOptions{})
	})

	all := append(append([]shape{}, shapes...), cases...)
	report := filepath.Join(t.TempDir(), "report.tar.gz")
	r := run(ctx, "doctor", "--all", "-n", ns, "--report", report)
	ran(t, r, 3)
	noLeak(t, r, all, nil)
	require.Contains(t, r.stdout, "atlasmigration/m-0")
	for _, format := range []string{"json", "yaml"} {
		r := run(ctx, "doctor", "--all", "-n", ns, "-o", format)
		ran(t, r, 3)
		noLeak(t, r, all, nil)
	}

	files := bundleFiles(t, report)
	for _, want := range []string{"findings.txt", "findings.json", "versions.json", "resources/" + ns + "/secret-db.yaml",
		"resources/" + ns + "/atlasmigration-m-0.yaml", "resources/" + ns + "/configmap-m-0-migrations.yaml",
		"events/" + ns + "/atlasmigration-m-0.yaml", "operator/" + opNS + "-atlas-operator-deployment.yaml"} {
		require.Contains(t, files, want)
	}
	require.Contains(t, files["resources/"+ns+"/secret-db.yaml"], "- k00")
	require.Contains(t, files["events/"+ns+"/atlasmigration-m-0.yaml"], "TransientErr")
	for name, content := range files {
		for _, sh := range all {
			for _, sp := range spellings(sh.secret) {
				if strings.Contains(content, sp) {
					t.Errorf("secret of shape %q is in %s of the bundle", sh.name, name)
				}
			}
		}
	}
}

func bundleFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		_, name, _ := strings.Cut(h.Name, "/")
		out[name] = string(b)
	}
}
