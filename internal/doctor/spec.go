package doctor

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The part of the Atlas Operator's API (github.com/ariga/atlas-operator/api/v1alpha1) doctor
// reads, under the operator's JSON names. As in internal/scaffold, the binary does not link the
// operator's package (it pulls controller-runtime, whose scheme registration costs every start
// of the plugin); spec_test.go decodes the same objects into the operator's types and compares.

// spec is the union of the AtlasMigration and AtlasSchema specs doctor reads.
type spec struct {
	URL         string          `json:"url,omitempty"`
	URLFrom     secretRef       `json:"urlFrom,omitempty"`
	Credentials credentials     `json:"credentials,omitempty"`
	ConfigFrom  secretRef       `json:"configFrom,omitempty"`
	DevURL      string          `json:"devURL,omitempty"`
	DevURLFrom  secretRef       `json:"devURLFrom,omitempty"`
	DevDB       *map[string]any `json:"devDB,omitempty"`
	Cloud       struct {
		TokenFrom secretRef `json:"tokenFrom,omitempty"`
	} `json:"cloud,omitempty"`
	// AtlasMigration
	Dir migrationDir `json:"dir"`
	// AtlasSchema
	Schema schemaSource `json:"schema,omitempty"`
}

// secretRef is v1alpha1.Secret and v1alpha1.TokenFrom.
type secretRef struct {
	SecretKeyRef *corev1.SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// credentials is v1alpha1.Credentials.
type credentials struct {
	Scheme       string            `json:"scheme,omitempty"`
	User         string            `json:"user,omitempty"`
	UserFrom     secretRef         `json:"userFrom,omitempty"`
	Password     string            `json:"password,omitempty"`
	PasswordFrom secretRef         `json:"passwordFrom,omitempty"`
	Host         string            `json:"host,omitempty"`
	HostFrom     secretRef         `json:"hostFrom,omitempty"`
	Port         int               `json:"port,omitempty"`
	Database     string            `json:"database,omitempty"`
	Parameters   map[string]string `json:"parameters,omitempty"`
}

// migrationDir is v1alpha1.Dir.
type migrationDir struct {
	ConfigMapRef *corev1.LocalObjectReference `json:"configMapRef,omitempty"`
	Remote       struct {
		Name string `json:"name,omitempty"`
		Tag  string `json:"tag,omitempty"`
	} `json:"remote,omitempty"`
	Local map[string]string `json:"local,omitempty"`
}

// schemaSource is v1alpha1.Schema.
type schemaSource struct {
	SQL             string                       `json:"sql,omitempty"`
	HCL             string                       `json:"hcl,omitempty"`
	URL             string                       `json:"url,omitempty"`
	ConfigMapKeyRef *corev1.ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
}

// driver is v1alpha1.Driver.
type driver string

const driverSQLite driver = "sqlite"

// driverBySchema is v1alpha1.DriverBySchema: the driver of a URL scheme, without its
// modifier (mysql+unix) and with its aliases (mariadb, postgresql, ...); "" when unknown.
func driverBySchema(scheme string) driver {
	s, _, _ := strings.Cut(scheme, "+")
	switch s = strings.ToLower(s); s {
	case "sqlite", "libsql":
		return driverSQLite
	case "mysql":
		return "mysql"
	case "mariadb", "maria":
		return "mariadb"
	case "postgres", "postgresql":
		return "postgres"
	case "sqlserver", "azuresql", "mssql":
		return "sqlserver"
	case "ysql", "clickhouse", "redshift", "databricks", "snowflake", "spanner", "crdb", "dsql", "oracle":
		return driver(s)
	}
	return ""
}
