package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/cluster"
	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// checkSpec checks what the spec references, for the kinds whose spec is known.
func (r *run) checkSpec(ctx context.Context) {
	kind := r.obj.GetKind()
	if kind != atlas.KindAtlasMigration && kind != atlas.KindAtlasSchema {
		return
	}
	var s spec
	raw, _ := r.obj.Object["spec"].(map[string]any)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &s); err != nil {
		r.add("spec", Fail, "the spec does not read as an "+kind+": "+err.Error(), "fix the manifest")
		return
	}
	drv := r.checkTarget(ctx, &s)
	if kind == atlas.KindAtlasMigration {
		r.checkDir(ctx, &s)
	} else {
		r.checkSchema(ctx, &s)
	}
	r.checkDevDB(ctx, &s, drv)
}

// checkTarget checks the target database's URL (or credentials), the dev URL, the project
// config and the Atlas Cloud token, and returns the target's driver ("" when unknown).
func (r *run) checkTarget(ctx context.Context, t *spec) driver {
	var drv driver
	switch {
	case t.URLFrom.SecretKeyRef != nil:
		ref := t.URLFrom.SecretKeyRef
		if v, ok := r.secretValue(ctx, "url", "spec.urlFrom", ref); ok {
			drv = r.checkURL("url", fmt.Sprintf("Secret %s key %s", ref.Name, ref.Key), v)
		}
	case t.URL != "":
		drv = r.checkURL("url", "spec.url", t.URL)
		if u, err := url.Parse(t.URL); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				r.add("url", Warn, "spec.url holds a password in the manifest, where everyone who reads the object sees it",
					"move the URL to a Secret and reference it with spec.urlFrom.secretKeyRef")
			}
		}
	case t.Credentials.Host != "" || t.Credentials.HostFrom.SecretKeyRef != nil:
		drv = r.checkCredentials(ctx, t.Credentials)
	default:
		r.add("url", Fail, "no target database: none of spec.url, spec.urlFrom and spec.credentials is set", "set spec.urlFrom.secretKeyRef to the Secret holding the database URL")
	}

	switch {
	case t.DevURLFrom.SecretKeyRef != nil:
		ref := t.DevURLFrom.SecretKeyRef
		if v, ok := r.secretValue(ctx, "dev-url", "spec.devURLFrom", ref); ok {
			r.checkURL("dev-url", fmt.Sprintf("Secret %s key %s", ref.Name, ref.Key), v)
		}
	case t.DevURL != "":
		r.checkURL("dev-url", "spec.devURL", t.DevURL)
	}
	if ref := t.ConfigFrom.SecretKeyRef; ref != nil {
		if _, ok := r.secretValue(ctx, "config", "spec.configFrom", ref); ok {
			r.add("config", OK, fmt.Sprintf("Secret %s has key %s (the project config)", ref.Name, ref.Key), "")
		}
	}
	if ref := t.Cloud.TokenFrom.SecretKeyRef; ref != nil {
		if v, ok := r.secretValue(ctx, "cloud-token", "spec.cloud.tokenFrom", ref); ok {
			if strings.TrimSpace(v) == "" {
				r.add("cloud-token", Fail, fmt.Sprintf("Secret %s key %s is empty", ref.Name, ref.Key), "put the Atlas Cloud token in it")
			} else {
				r.add("cloud-token", OK, fmt.Sprintf("Secret %s has key %s (the Atlas Cloud token, %d characters)", ref.Name, ref.Key, len(strings.TrimSpace(v))), "")
			}
		}
	}
	return drv
}

// checkCredentials checks spec.credentials: the Secrets it references and its scheme.
func (r *run) checkCredentials(ctx context.Context, c credentials) driver {
	for _, ref := range []struct {
		field string
		sel   *corev1.SecretKeySelector
	}{{"spec.credentials.userFrom", c.UserFrom.SecretKeyRef}, {"spec.credentials.passwordFrom", c.PasswordFrom.SecretKeyRef}, {"spec.credentials.hostFrom", c.HostFrom.SecretKeyRef}} {
		if ref.sel != nil {
			if _, ok := r.secretValue(ctx, "url", ref.field, ref.sel); !ok {
				return ""
			}
		}
	}
	drv := driverBySchema(c.Scheme)
	if drv == "" {
		r.add("url", Fail, fmt.Sprintf("spec.credentials.scheme %q names no driver the operator knows", c.Scheme), "use one of "+knownDrivers)
		return ""
	}
	host := dash(c.Host)
	if ref := c.HostFrom.SecretKeyRef; ref != nil {
		host = fmt.Sprintf("from Secret %s key %s", ref.Name, ref.Key)
	}
	r.add("url", OK, fmt.Sprintf("spec.credentials: driver %s, host %s, database %s", drv, host, dash(c.Database)), "")
	return drv
}

const knownDrivers = "postgres, mysql, mariadb, sqlite, sqlserver, clickhouse, redshift, crdb, ysql, spanner, snowflake, databricks, oracle, dsql"

// checkURL checks that a database URL parses as the operator parses it and names a driver it
// knows; it says the URL without its password. It returns the driver.
func (r *run) checkURL(check, where, raw string) driver {
	r.registerValue(raw)
	if strings.TrimSpace(raw) == "" {
		r.add(check, Fail, where+" is empty", "put the database URL in it, e.g. postgres://user:password@host:5432/db?sslmode=disable")
		return ""
	}
	if strings.TrimSpace(raw) != raw {
		r.add(check, Fail, where+" has leading or trailing white space (a newline: a Secret made with echo without -n?); the operator reads the value as it is",
			"write the value without the newline (kubectl create secret generic --from-literal, or printf instead of echo)")
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		why := "it is not a URL"
		if errors.As(err, &ue) {
			why = ue.Err.Error()
		}
		r.add(check, Fail, fmt.Sprintf("%s does not parse as a URL: %s", where, why),
			"percent-encode special characters of the user and password (% as %25, @ as %40, / as %2F, # as %23)")
		return ""
	}
	if u.Scheme == "" {
		r.add(check, Fail, fmt.Sprintf("%s has no scheme: %s", where, shownURL(u)), "start the URL with the driver, e.g. postgres://, mysql://, sqlite://")
		return ""
	}
	drv := driverBySchema(u.Scheme)
	if drv == "" {
		r.add(check, Fail, fmt.Sprintf("%s names driver %q, which the operator does not know: %s", where, u.Scheme, shownURL(u)), "use one of "+knownDrivers)
		return ""
	}
	r.add(check, OK, fmt.Sprintf("%s: %s (driver %s)", where, shownURL(u), drv), "")
	return drv
}

// secretValue reads the value a secretKeyRef points at, adding a FAIL when the Secret or its
// key is missing; it registers the Secret's data with the redactor.
func (r *run) secretValue(ctx context.Context, check, field string, ref *corev1.SecretKeySelector) (string, bool) {
	s, err := r.d.kube.CoreV1().Secrets(r.ns).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.ev.Secrets[ref.Name] = nil
		if ref.Optional != nil && *ref.Optional {
			r.add(check, Info, fmt.Sprintf("Secret %s (%s) does not exist; it is optional", ref.Name, field), "")
			return "", false
		}
		r.add(check, Fail, fmt.Sprintf("Secret %s (%s) does not exist in namespace %s", ref.Name, field, r.ns),
			fmt.Sprintf("create it in this namespace (kubectl create secret generic %s -n %s --from-literal=%s=...), or fix %s.secretKeyRef.name", ref.Name, r.ns, ref.Key, field))
		return "", false
	case err != nil:
		r.add(check, Warn, fmt.Sprintf("cannot read Secret %s (%s): %s", ref.Name, field, explain(err)), "")
		return "", false
	}
	others := map[string]string{}
	keys := make([]string, 0, len(s.Data))
	for k, v := range s.Data {
		if k != ref.Key {
			others[k] = string(v)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	r.d.opts.Redactor.AddSecretData(others)
	r.ev.Secrets[ref.Name] = keys
	b, ok := s.Data[ref.Key]
	v := string(b)
	r.registerValue(v)
	if !ok {
		r.add(check, Fail, fmt.Sprintf("Secret %s (%s) has no key %s; its keys: %s", ref.Name, field, ref.Key, dash(strings.Join(keys, ", "))),
			fmt.Sprintf("add key %s to the Secret, or set %s.secretKeyRef.key to one of its keys", ref.Key, field))
		return "", false
	}
	return v, true
}

// explain is an API error in a few words, credentials redacted.
func explain(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "not allowed (RBAC): " + cluster.Redacted(err).Error()
	case apierrors.IsNotFound(err):
		return "not found: " + cluster.Redacted(err).Error()
	}
	return cluster.Redacted(err).Error()
}

// registerValue registers the secret part of a referenced value with the Doctor's Redactor: a
// URL's password and secret-looking query values (the rest of a URL is what doctor shows, said
// without them), any other value whole.
func (r *run) registerValue(v string) {
	red := r.d.opts.Redactor
	t := strings.TrimSpace(v)
	if !strings.Contains(t, "://") {
		red.Add(v)
		return
	}
	red.AddURL(t)
	u, err := url.Parse(t)
	if err != nil {
		return
	}
	for k, vals := range u.Query() {
		if redact.SecretKey(k) {
			red.Add(vals...)
		}
	}
}

// shownURL is u as doctor says it: without the password and secret query values.
func shownURL(u *url.URL) string {
	c := *u
	if q := c.Query(); len(q) > 0 {
		for k := range q {
			if redact.SecretKey(k) {
				q.Set(k, redact.Marker)
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}
