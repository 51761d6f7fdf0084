package healthcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// A few of Argo CD's built-in verdicts that kstatus gave differently; the full proof against
// gitops-engine is healthcheck/argocdtest's TestBuiltinHealthConformance.
func TestBuiltinHealth(t *testing.T) {
	for _, tc := range []struct {
		doc    string
		status HealthStatus
		msg    string
		check  bool
	}{
		{doc: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n", status: Progressing, check: true},
		{doc: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}\n", status: Healthy, check: true},
		{doc: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n", status: Progressing, check: true},
		{doc: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}\n", status: Healthy, check: true},
		{doc: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p}\nstatus: {phase: Pending}\n", status: Progressing, check: true},
		{doc: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, generation: 2}\nspec: {replicas: 1}\nstatus: {observedGeneration: 2, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]}\n",
			status: Degraded, msg: `Deployment "d" exceeded its progress deadline`, check: true},
		{doc: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Suspended, status: 'True'}]}\n", status: Suspended, check: true},
		{doc: "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: a}\n", status: Progressing, msg: "Waiting to be processed", check: true},
		{doc: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n", status: Progressing, msg: "Waiting to Autoscale", check: true},
		{doc: "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: d}\n", status: Unknown, msg: "unsupported Deployment GVK: apps/v1beta2, Kind=Deployment", check: true},
		{doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, deletionTimestamp: '2026-01-01T00:00:00Z'}\n", status: Progressing, msg: "Pending deletion", check: true},
		{doc: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {suspend: true}\n", status: Healthy, msg: "CronJob is Suspended", check: true},
		{doc: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:00Z'}\n",
			status: Degraded, msg: "CronJob has not completed its last execution successfully", check: true},
		{doc: "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: c}\nstatus: {conditions: [{type: Established, status: 'True'}]}\n", status: Healthy, msg: "CRD is healthy", check: true},
		{doc: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n", check: false},
	} {
		u := &unstructured.Unstructured{}
		assert.NoError(t, yaml.Unmarshal([]byte(tc.doc), &u.Object))
		got, check := Get(u)
		assert.Equal(t, tc.check, check, tc.doc)
		assert.Equal(t, tc.status, got.Status, tc.doc)
		assert.Equal(t, tc.msg, got.Message, tc.doc)
	}
}
