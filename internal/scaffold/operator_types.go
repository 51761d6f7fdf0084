package scaffold

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The part of the Atlas Operator's API (github.com/ariga/atlas-operator/api/v1alpha1) that
// scaffold writes, under the operator's JSON names. The binary does not link the operator's
// package: it imports controller-runtime, whose client package registers every client-go type
// in a scheme of its own at init, about 3 ms of every start of the plugin (each TAB
// completion included). The operator's types stay the contract: the tests decode every Atlas
// object scaffold writes into them, strictly, and compare (operator_types_test.go).

type atlasMigration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              migrationSpec `json:"spec"`
}

type atlasSchema struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              schemaSpec `json:"spec"`
}

// targetSpec is v1alpha1.TargetSpec (url, urlFrom), inlined in both specs.
type targetSpec struct {
	URL     string      `json:"url,omitempty"`
	URLFrom secretValue `json:"urlFrom,omitempty"`
}

// secretValue is v1alpha1.Secret and v1alpha1.TokenFrom: a key of a Secret.
type secretValue struct {
	SecretKeyRef *corev1.SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// cloud is the tokenFrom of v1alpha1.CloudV0 (AtlasMigration) and v1alpha1.Cloud (AtlasSchema).
type cloud struct {
	TokenFrom secretValue `json:"tokenFrom,omitempty"`
}

type migrationSpec struct {
	targetSpec `json:",inline"`
	Cloud      cloud        `json:"cloud,omitempty"`
	Dir        migrationDir `json:"dir"`
	DevURL     string       `json:"devURL,omitempty"`
	DevURLFrom secretValue  `json:"devURLFrom,omitempty"`
	Baseline   string       `json:"baseline,omitempty"`
	ExecOrder  string       `json:"execOrder,omitempty"`
}

type migrationDir struct {
	ConfigMapRef *corev1.LocalObjectReference `json:"configMapRef,omitempty"`
	Remote       remoteDir                    `json:"remote,omitempty"`
}

type remoteDir struct {
	Name string `json:"name,omitempty"`
	Tag  string `json:"tag,omitempty"`
}

type schemaSpec struct {
	targetSpec `json:",inline"`
	Schema     schemaSource `json:"schema,omitempty"`
	Cloud      cloud        `json:"cloud,omitempty"`
	DevURL     string       `json:"devURL,omitempty"`
	DevURLFrom secretValue  `json:"devURLFrom,omitempty"`
	Policy     *policy      `json:"policy,omitempty"`
}

type schemaSource struct {
	SQL             string                       `json:"sql,omitempty"`
	HCL             string                       `json:"hcl,omitempty"`
	URL             string                       `json:"url,omitempty"`
	ConfigMapKeyRef *corev1.ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
}

type policy struct {
	Lint *lintPolicy `json:"lint,omitempty"`
}

type lintPolicy struct {
	Destructive *checkConfig `json:"destructive,omitempty"`
}

type checkConfig struct {
	Error bool `json:"error,omitempty"`
}
