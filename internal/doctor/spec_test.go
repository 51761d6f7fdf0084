package doctor

import (
	"testing"

	"github.com/ariga/atlas-operator/api/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// doctor's mirror of the operator's types reads the same values as the operator's own types.
func TestSpecIsOperatorTypes(t *testing.T) {
	const migration = `
url: postgres://u:p@h/db
urlFrom: {secretKeyRef: {name: db, key: url}}
credentials:
  scheme: postgres
  user: u
  userFrom: {secretKeyRef: {name: c, key: user}}
  password: p
  passwordFrom: {secretKeyRef: {name: c, key: password}}
  host: h
  hostFrom: {secretKeyRef: {name: c, key: host}}
  port: 5432
  database: app
  parameters: {sslmode: disable}
configFrom: {secretKeyRef: {name: cfg, key: atlas.hcl}}
devURL: postgres://dev
devURLFrom: {secretKeyRef: {name: dev, key: url}}
devDB: {spec: {containers: [{name: pg, image: postgres}]}}
cloud: {tokenFrom: {secretKeyRef: {name: tok, key: token}}, project: p, url: https://x}
dir:
  configMapRef: {name: m}
  remote: {name: r, tag: t}
  local: {1.sql: "CREATE TABLE t (id int);"}
`
	const schema = `
urlFrom: {secretKeyRef: {name: db, key: url}}
cloud: {tokenFrom: {secretKeyRef: {name: tok, key: token}}, repo: r}
schema: {sql: "CREATE TABLE t (id int);", hcl: "table {}", url: "atlas://x", configMapKeyRef: {name: s, key: schema.sql}}
`
	decode := func(src string, into any) {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(src), &m))
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(m, into))
	}
	var ours spec
	var mig v1alpha1.AtlasMigrationSpec
	decode(migration, &ours)
	decode(migration, &mig)
	assert.Equal(t, mig.URL, ours.URL)
	assert.Equal(t, mig.URLFrom.SecretKeyRef, ours.URLFrom.SecretKeyRef)
	c, oc := mig.Credentials, ours.Credentials
	assert.Equal(t, []any{c.Scheme, c.User, c.UserFrom.SecretKeyRef, c.Password, c.PasswordFrom.SecretKeyRef, c.Host, c.HostFrom.SecretKeyRef, c.Port, c.Database, c.Parameters},
		[]any{oc.Scheme, oc.User, oc.UserFrom.SecretKeyRef, oc.Password, oc.PasswordFrom.SecretKeyRef, oc.Host, oc.HostFrom.SecretKeyRef, oc.Port, oc.Database, oc.Parameters})
	assert.Equal(t, mig.ConfigFrom.SecretKeyRef, ours.ConfigFrom.SecretKeyRef)
	assert.Equal(t, mig.DevURL, ours.DevURL)
	assert.Equal(t, mig.DevURLFrom.SecretKeyRef, ours.DevURLFrom.SecretKeyRef)
	assert.Equal(t, mig.DevDB != nil, ours.DevDB != nil)
	assert.Equal(t, mig.Cloud.TokenFrom.SecretKeyRef, ours.Cloud.TokenFrom.SecretKeyRef)
	assert.Equal(t, mig.Dir.ConfigMapRef, ours.Dir.ConfigMapRef)
	assert.Equal(t, []string{mig.Dir.Remote.Name, mig.Dir.Remote.Tag}, []string{ours.Dir.Remote.Name, ours.Dir.Remote.Tag})
	assert.Equal(t, mig.Dir.Local, ours.Dir.Local)

	ours = spec{}
	var sch v1alpha1.AtlasSchemaSpec
	decode(schema, &ours)
	decode(schema, &sch)
	assert.Equal(t, sch.Cloud.TokenFrom.SecretKeyRef, ours.Cloud.TokenFrom.SecretKeyRef)
	assert.Equal(t, []any{sch.Schema.SQL, sch.Schema.HCL, sch.Schema.URL, sch.Schema.ConfigMapKeyRef},
		[]any{ours.Schema.SQL, ours.Schema.HCL, ours.Schema.URL, ours.Schema.ConfigMapKeyRef})
}

// driverBySchema answers as the operator's DriverBySchema.
func TestDriverBySchema(t *testing.T) {
	for _, s := range []string{"sqlite", "libsql", "SQLite", "mysql", "mysql+unix", "mariadb", "maria", "postgres", "postgresql",
		"postgres+x", "ysql", "sqlserver", "azuresql", "mssql", "clickhouse", "redshift", "databricks", "snowflake", "spanner",
		"crdb", "dsql", "oracle", "", "oracel", "http", "file", "docker", "atlas"} {
		want, err := v1alpha1.DriverBySchema(s)
		if err != nil {
			want = ""
		}
		assert.Equal(t, string(want), string(driverBySchema(s)), s)
	}
}
