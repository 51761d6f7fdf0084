package scaffold

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/diag"
	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// SSAThreshold is the size (bytes of the object's JSON) past which client-side apply fails:
// kubectl and Argo CD store the whole object in the last-applied-configuration annotation, and
// all annotations together may hold at most 256 KiB. A little headroom covers the annotation's
// own metadata.
const SSAThreshold = 256*1024 - 2*1024

// ConfigMapOptions are the inputs of MigrationsConfigMap.
type ConfigMapOptions struct {
	Name      string
	Namespace string
	Dir       *migdir.Dir
	NeedsHash bool
}

// MigrationsConfigMap packs a validated migration directory into one ConfigMap the way the
// operator reads it: flat keys (file names), every *.sql file plus atlas.sum. It checks the 1 MiB
// limit and marks objects past SSAThreshold with the ServerSideApply sync option (the returned
// notes say why). `kubectl atlas configmap`, `init` and the kustomize generator all call it.
func MigrationsConfigMap(o ConfigMapOptions) (*unstructured.Unstructured, Notes, error) {
	if err := o.Dir.CheckSize(); err != nil {
		return nil, nil, err
	}
	data := make(map[string]any, len(o.Dir.Files))
	for _, f := range o.Dir.Files {
		data[f.Name] = string(f.Data)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": o.Name},
		"data":       data,
	}}
	if o.Namespace != "" {
		u.SetNamespace(o.Namespace)
	}
	if o.NeedsHash {
		setAnnotation(u, NeedsHashAnnotation, "true")
	}
	var notes Notes
	if size := jsonSize(u); size > SSAThreshold {
		setAnnotation(u, atlas.SyncOptionsAnnotation, ServerSideApplyOption)
		notes = append(notes, diag.Diagnostic{Severity: diag.Info, Message: fmt.Sprintf("ConfigMap %s is %d KiB: past 256 KiB client-side `kubectl apply` and Argo CD's default sync fail (last-applied annotation limit), so it carries %s=%s; apply it with `kubectl apply --server-side`", o.Name, size/1024, atlas.SyncOptionsAnnotation, ServerSideApplyOption)})
	}
	return u, notes, nil
}

// jsonSize is the length of json.Marshal(u.Object), as kubectl stores it in the
// last-applied-configuration annotation. ConfigMap data is counted without encoding it (the
// directory can be close to 1 MiB); the rest is small and marshalled.
func jsonSize(u *unstructured.Unstructured) int {
	data, _ := u.Object["data"].(map[string]any)
	rest := make(map[string]any, len(u.Object))
	for k, v := range u.Object {
		if k != "data" {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return 0
	}
	n := len(b)
	if data == nil {
		return n
	}
	n += len(`,"data":{}`)
	i := 0
	for k, v := range data {
		s, ok := v.(string)
		if !ok {
			vb, _ := json.Marshal(v)
			s = string(vb)
		}
		if i > 0 {
			n++ // comma
		}
		n += jsonStringLen(k) + 1 + jsonStringLen(s)
		i++
	}
	return n
}

// jsonStringLen is the length of a string encoded by encoding/json (quotes, escapes, HTML
// escaping of <, > and &, \u2028 and \u2029, U+FFFD for invalid bytes).
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

func (b *builder) migration() error {
	o := b.opts
	spec := migrationSpec{}
	b.target(&spec.targetSpec)
	b.devURL(&spec.DevURL, &spec.DevURLFrom)
	var annotations map[string]string
	switch {
	case o.Dir != nil:
		cmName := MigrationsConfigMapName(o.Name)
		cm, notes, err := MigrationsConfigMap(ConfigMapOptions{Name: cmName, Dir: o.Dir, NeedsHash: o.ConfigMapNeedsHash})
		if err != nil {
			return err
		}
		b.notes = append(b.notes, notes...)
		// Same wave as its reader: Argo CD applies ConfigMaps before custom resources in a wave.
		b.add(RoleConfigMap, "migrations-configmap.yaml", cm, b.waves.Schema)
		spec.Dir.ConfigMapRef = &corev1.LocalObjectReference{Name: cmName}
		spec.Baseline = o.Baseline
		if o.Dir.HasRepeatables() {
			spec.ExecOrder = "non-linear"
			b.note("", "the AtlasMigration has execOrder: non-linear: %s; atlas applies those as the source tool would; %s", o.Dir.NonLinearReason(), o.Dir.RerunCaveat())
		}
		if v := o.Dir.LatestVersion(); v != "" {
			annotations = map[string]string{atlas.TargetVersionAnnotation: v}
		}
	case o.RemoteDir != nil:
		spec.Dir.Remote = remoteDir{Name: o.RemoteDir.Name, Tag: o.RemoteDir.Tag}
		if o.TokenSecret != nil {
			spec.Cloud.TokenFrom.SecretKeyRef = secretKeySelector(*o.TokenSecret)
		} else {
			b.note(NoteNeedsToken, "a remote directory needs an Atlas Cloud token")
		}
	}
	m := &atlasMigration{
		TypeMeta:   metav1.TypeMeta{APIVersion: atlas.Group + "/" + atlas.Version, Kind: atlas.KindAtlasMigration},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Annotations: annotations},
		Spec:       spec,
	}
	u, err := toUnstructured(m)
	if err != nil {
		return err
	}
	b.add(RoleAtlas, "atlasmigration.yaml", u, b.waves.Schema)
	return nil
}

func (b *builder) schema() error {
	o := b.opts
	spec := schemaSpec{}
	b.target(&spec.targetSpec)
	b.devURL(&spec.DevURL, &spec.DevURLFrom)
	switch {
	case o.SchemaURL != "":
		spec.Schema.URL = o.SchemaURL
		if o.TokenSecret != nil {
			spec.Cloud.TokenFrom.SecretKeyRef = secretKeySelector(*o.TokenSecret)
		} else {
			b.note(NoteNeedsToken, "an atlas:// schema URL needs an Atlas Cloud token")
		}
	case o.SchemaConfigMap:
		// The name always changes with the content: editing only a schema ConfigMap leaves the
		// AtlasSchema's generation and its Ready=True as they were, and the operator's status
		// carries nothing that tells the old schema from the new one, so health would read the
		// stale Ready as done. A new name per content changes the spec, and with it the
		// generation the health check compares. The kustomize generator leaves the hash to
		// kustomize (needs-hash); init writes it into the name itself, so plain
		// `kubectl apply -f` gets it too.
		cmName := SchemaConfigMapName(o.Name, o.Schema.Data)
		if o.ConfigMapNeedsHash {
			cmName = o.Name + "-schema"
		}
		cm := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1",
			"kind":       "ConfigMap",
			"metadata":   map[string]any{"name": cmName},
			"data":       map[string]any{o.Schema.FileName: string(o.Schema.Data)},
		}}
		if o.ConfigMapNeedsHash {
			setAnnotation(cm, NeedsHashAnnotation, "true")
		}
		if jsonSize(cm) > migdir.MaxConfigMapBytes {
			return fmt.Errorf("schema file %s is %d KiB: a ConfigMap holds at most 1 MiB; split the schema or use an atlas:// schema URL", o.Schema.FileName, len(o.Schema.Data)/1024)
		}
		if jsonSize(cm) > SSAThreshold {
			setAnnotation(cm, atlas.SyncOptionsAnnotation, ServerSideApplyOption)
			b.note("", "ConfigMap %s is past 256 KiB: it carries %s=%s (client-side apply would fail)", cmName, atlas.SyncOptionsAnnotation, ServerSideApplyOption)
		}
		b.add(RoleConfigMap, "schema-configmap.yaml", cm, b.waves.Schema)
		spec.Schema.ConfigMapKeyRef = &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: cmName},
			Key:                  o.Schema.FileName,
		}
	case path.Ext(o.Schema.FileName) == ".hcl":
		spec.Schema.HCL = string(o.Schema.Data)
	default:
		spec.Schema.SQL = string(o.Schema.Data)
	}
	if o.DenyDestructive {
		spec.Policy = &policy{Lint: &lintPolicy{Destructive: &checkConfig{Error: true}}}
	}
	s := &atlasSchema{
		TypeMeta:   metav1.TypeMeta{APIVersion: atlas.Group + "/" + atlas.Version, Kind: atlas.KindAtlasSchema},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name},
		Spec:       spec,
	}
	u, err := toUnstructured(s)
	if err != nil {
		return err
	}
	b.add(RoleAtlas, "atlasschema.yaml", u, b.waves.Schema)
	return nil
}

func (b *builder) target(t *targetSpec) {
	if b.opts.URL != "" {
		t.URL = b.opts.URL
		return
	}
	t.URLFrom.SecretKeyRef = secretKeySelector(*b.opts.urlSecret())
}

func (b *builder) devURL(devURL *string, from *secretValue) {
	if b.opts.DevURL != "" {
		*devURL = b.opts.DevURL
	}
	if b.opts.DevURLSecret != nil {
		from.SecretKeyRef = secretKeySelector(*b.opts.DevURLSecret)
	}
}

func secretKeySelector(r SecretRef) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: r.Name}, Key: r.Key}
}

// dbSpec holds what differs between the demo database engines.
type dbSpec struct {
	image, user, portName string
	port                  int32
	passwordEnv, dbEnv    string
	probe                 []string
	urlScheme, urlQuery   string
}

// demoDatabase is the database created by --with-db: one database named "app".
const demoDatabase = "app"

var dbSpecs = map[string]dbSpec{
	DBMySQL: {
		image: "mysql:8.4", user: "root", portName: "mysql", port: 3306,
		passwordEnv: "MYSQL_ROOT_PASSWORD", dbEnv: "MYSQL_DATABASE",
		probe:     []string{"sh", "-c", `mysqladmin ping -h 127.0.0.1 -uroot -p"$MYSQL_ROOT_PASSWORD"`},
		urlScheme: "mysql",
	},
	DBPostgres: {
		image: "postgres:16", user: "postgres", portName: "postgres", port: 5432,
		passwordEnv: "POSTGRES_PASSWORD", dbEnv: "POSTGRES_DB",
		probe:     []string{"pg_isready", "-U", "postgres", "-d", demoDatabase},
		urlScheme: "postgres", urlQuery: "sslmode=disable",
	},
}

// database builds the demo database: a Secret with the password and the URL the operator uses,
// a Service and a single-replica Deployment with a readiness probe (as in the operator's guides).
func (b *builder) database() error {
	o := b.opts
	d := dbSpecs[o.WithDB]
	name := DBName(o.Name)
	labels := map[string]string{"app.kubernetes.io/name": name}
	// The operator runs atlas in its own namespace: the host must carry the namespace.
	ns := o.Namespace
	if ns == "" {
		ns = "default"
		b.note(NoteDefaultNamespace, "the demo database URL assumes namespace %q", ns)
	}
	dbURL := url.URL{
		Scheme:   d.urlScheme,
		User:     url.UserPassword(d.user, o.DBPassword),
		Host:     fmt.Sprintf("%s.%s:%d", name, ns, d.port),
		Path:     "/" + demoDatabase,
		RawQuery: d.urlQuery,
	}
	urlKey := "url"
	if o.URLSecret != nil && o.URLSecret.Name == name {
		urlKey = o.URLSecret.Key
	}
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"password": o.DBPassword, urlKey: dbURL.String()},
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: d.portName, Port: d.port, TargetPort: intstr.FromString(d.portName)}},
		},
	}
	dep := dbDeployment(o.WithDB, d, name, labels)
	// The Secret is read by the Atlas resource and the app: never in a later wave than they are.
	secretWave := min(b.waves.DB, b.waves.Schema)
	if o.WithApp != "" {
		secretWave = min(secretWave, b.waves.App)
	}
	for _, x := range []struct {
		role, file string
		obj        runtime.Object
		wave       int
	}{
		{RoleDBSecret, "db-secret.yaml", secret, secretWave},
		{RoleDBService, "db-service.yaml", svc, b.waves.DB},
		{RoleDBDeployment, "db-deployment.yaml", dep, b.waves.DB},
	} {
		u, err := toUnstructured(x.obj)
		if err != nil {
			return err
		}
		b.add(x.role, x.file, u, x.wave)
	}
	return nil
}

// dbDeployment runs the demo database engine: one replica, recreated rather than rolled (a
// database must not run twice on one volume), ready when its own client answers.
func dbDeployment(engine string, d dbSpec, name string, labels map[string]string) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			// A database must not run twice on one volume while rolling out.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  engine,
					Image: d.image,
					Env: []corev1.EnvVar{
						{Name: d.passwordEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secretKeySelector(SecretRef{Name: name, Key: "password"})}},
						{Name: d.dbEnv, Value: demoDatabase},
					},
					Ports: []corev1.ContainerPort{{Name: d.portName, ContainerPort: d.port}},
					ReadinessProbe: &corev1.Probe{
						ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: d.probe}},
						InitialDelaySeconds: 5,
						PeriodSeconds:       5,
					},
				}}},
			},
		},
	}
}

// app builds the application placeholder; it gets the database URL from the same Secret the
// Atlas resource reads, so the app and the schema always point at one database.
func (b *builder) app() error {
	o := b.opts
	name := AppName(o.Name)
	labels := map[string]string{"app.kubernetes.io/name": name}
	c := corev1.Container{Name: "app", Image: o.WithApp}
	if ref := o.urlSecret(); ref != nil {
		c.Env = []corev1.EnvVar{{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secretKeySelector(*ref)}}}
	}
	one := int32(1)
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
			},
		},
	}
	u, err := toUnstructured(dep)
	if err != nil {
		return err
	}
	b.add(RoleApp, "app-deployment.yaml", u, b.waves.App)
	return nil
}

// toUnstructured converts a typed object and prunes what the typed structs cannot omit (empty
// structs, null timestamps, status), so the YAML holds only what was set.
func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	delete(m, "status")
	prune(m)
	return &unstructured.Unstructured{Object: m}, nil
}

// prune removes nil values, empty strings, empty maps and empty slices, recursively. Zero
// numbers and false stay: they can be meaningful (replicas: 0).
func prune(m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if empty(pruneValue(m[k])) {
			delete(m, k)
		}
	}
}

func pruneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		prune(x)
	case []any:
		for _, e := range x {
			pruneValue(e)
		}
	}
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// urlHasPassword reports whether a database URL carries a password.
func urlHasPassword(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}
