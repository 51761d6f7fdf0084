package doctor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Operator is what doctor found of the Atlas Operator in the cluster: the Deployments that run
// it (none when it runs outside the cluster), read once per Doctor.
type Operator struct {
	Controllers []Controller
	// Err is why the Deployments could not be listed ("" when they could).
	Err string
}

// Controller is one Deployment running the operator.
type Controller struct {
	Deployment *appsv1.Deployment
	// Version is the image tag (or the app.kubernetes.io/version label).
	Version string
	// Namespaces are the namespaces it watches (--namespace), nil for all.
	Namespaces []string
	// Selector is its --label-selector, nil for none.
	Selector labels.Selector
	// SelectorText is the flag's text.
	SelectorText   string
	ServiceAccount string
	Ready, Wanted  int32
	// Logs are the newest log lines of each of its Pods, by Pod name (redacted); LogErr says
	// why they could not be read.
	Logs   map[string][]string
	LogErr string
}

// Operator looks the operator up once: every Deployment in the cluster whose container image is
// the operator's, or that carries the Helm chart's name label.
func (d *Doctor) Operator(ctx context.Context) *Operator {
	d.opOnce.Do(func() { d.op = d.findOperator(ctx) })
	return d.op
}

func (d *Doctor) findOperator(ctx context.Context) *Operator {
	op := &Operator{}
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := d.kube.AppsV1().Deployments("").List(ctx, opts)
		if err != nil {
			op.Err = "cannot list Deployments in all namespaces to find the operator: " + explain(err)
			return op
		}
		for i := range list.Items {
			if dep := &list.Items[i]; isOperator(dep) {
				op.Controllers = append(op.Controllers, d.controller(ctx, dep))
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			break
		}
	}
	sort.Slice(op.Controllers, func(i, j int) bool {
		a, b := op.Controllers[i].Deployment, op.Controllers[j].Deployment
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	return op
}

// isOperator recognises the operator's Deployment: its image (arigaio/atlas-operator) or the
// labels of its Helm chart; the dev database Deployments it creates carry part-of labels too.
func isOperator(dep *appsv1.Deployment) bool {
	l := dep.Labels
	if l["app.kubernetes.io/name"] == "atlas-dev-db" {
		return false
	}
	if l["app.kubernetes.io/name"] == "atlas-operator" {
		return true
	}
	for _, c := range dep.Spec.Template.Spec.Containers {
		if strings.Contains(c.Image, "atlas-operator") {
			return true
		}
	}
	return false
}

// managerContainer is the operator's container: the chart's "manager", else the first.
func managerContainer(dep *appsv1.Deployment) *corev1.Container {
	cs := dep.Spec.Template.Spec.Containers
	for i := range cs {
		if cs[i].Name == "manager" || strings.Contains(cs[i].Image, "atlas-operator") {
			return &cs[i]
		}
	}
	if len(cs) > 0 {
		return &cs[0]
	}
	return nil
}

func (d *Doctor) controller(ctx context.Context, dep *appsv1.Deployment) Controller {
	c := d.controllerOf(dep)
	c.Logs, c.LogErr = d.operatorLogs(ctx, c.Deployment, managerContainer(c.Deployment))
	return c
}

// controllerOf reads what a Deployment says of the operator it runs.
func (d *Doctor) controllerOf(dep *appsv1.Deployment) Controller {
	dep = dep.DeepCopy()
	dep.ManagedFields = nil
	c := Controller{Deployment: dep, Ready: dep.Status.ReadyReplicas, Wanted: 1, ServiceAccount: dep.Spec.Template.Spec.ServiceAccountName}
	if dep.Spec.Replicas != nil {
		c.Wanted = *dep.Spec.Replicas
	}
	if c.ServiceAccount == "" {
		c.ServiceAccount = "default"
	}
	c.Version = dep.Labels["app.kubernetes.io/version"]
	mc := managerContainer(dep)
	if mc != nil {
		if i := strings.LastIndexByte(mc.Image, ':'); i >= 0 && !strings.Contains(mc.Image[i:], "/") {
			c.Version = strings.TrimPrefix(mc.Image[i+1:], "v")
		}
		// operator v0.7.37's flags (cmd/main.go): --namespace=a,b and --label-selector=...
		args := append(append([]string{}, mc.Command...), mc.Args...)
		for i := 0; i < len(args); i++ {
			flag, val, hasVal := strings.Cut(args[i], "=")
			if !hasVal && i+1 < len(args) && (flag == "--namespace" || flag == "-namespace" || flag == "--label-selector" || flag == "-label-selector") {
				val = args[i+1]
				i++
			}
			switch strings.TrimLeft(flag, "-") {
			case "namespace":
				for _, ns := range strings.Split(val, ",") {
					if ns = strings.TrimSpace(ns); ns != "" {
						c.Namespaces = append(c.Namespaces, ns)
					}
				}
			case "label-selector":
				c.SelectorText = val
				if s, err := labels.Parse(val); err == nil {
					c.Selector = s
				}
			}
		}
	}
	return c
}

// operatorLogs reads the newest lines of each operator Pod.
func (d *Doctor) operatorLogs(ctx context.Context, dep *appsv1.Deployment, mc *corev1.Container) (map[string][]string, string) {
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return nil, "its selector does not parse: " + err.Error()
	}
	pods, err := d.kube.CoreV1().Pods(dep.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, "cannot list its Pods: " + explain(err)
	}
	if len(pods.Items) == 0 {
		return nil, "it has no Pods"
	}
	tail := int64(d.opts.TailLines)
	logs := map[string][]string{}
	var errs []string
	for _, p := range pods.Items {
		opts := &corev1.PodLogOptions{TailLines: &tail}
		if mc != nil {
			opts.Container = mc.Name
		}
		b, err := d.kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).DoRaw(ctx)
		if err != nil {
			errs = append(errs, fmt.Sprintf("Pod %s: %s", p.Name, explain(err)))
			continue
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines = append(lines, d.opts.Redactor.String(sc.Text()))
		}
		logs[p.Name] = lines
	}
	if len(logs) == 0 {
		return nil, "cannot read the logs of its Pods: " + strings.Join(errs, "; ")
	}
	return logs, ""
}

// checkOperator checks that an operator runs, watches the resource's namespace and labels, may
// read the Secrets the resource references, and shows its log lines about the resource.
func (r *run) checkOperator(ctx context.Context) {
	op := r.d.Operator(ctx)
	touched := condition(r.obj, "Ready") != nil
	if op.Err != "" {
		r.add("operator", Warn, op.Err, "run doctor as a user who may list Deployments cluster-wide to check the operator")
		return
	}
	if len(op.Controllers) == 0 {
		if touched {
			r.add("operator", Info, "no Deployment in the cluster runs the Atlas Operator, yet the resource has conditions: the operator runs outside the cluster (a local run or another cluster's). Its version, watch scope, permissions and logs cannot be checked from here", "")
			return
		}
		r.add("operator", Fail, "no Deployment in the cluster runs the Atlas Operator, and nothing has written the resource's status",
			"install the operator (helm install atlas-operator oci://ghcr.io/ariga/charts/atlas-operator -n atlas-operator --create-namespace), or start the one you run elsewhere")
		return
	}
	var watching []Controller
	var notWatching []string
	for _, c := range op.Controllers {
		id := fmt.Sprintf("%s/%s", c.Deployment.Namespace, c.Deployment.Name)
		switch {
		case len(c.Namespaces) > 0 && !contains(c.Namespaces, r.ns):
			notWatching = append(notWatching, fmt.Sprintf("%s watches only namespace(s) %s (--namespace)", id, strings.Join(c.Namespaces, ",")))
		case c.Selector != nil && !c.Selector.Matches(labels.Set(r.obj.GetLabels())):
			notWatching = append(notWatching, fmt.Sprintf("%s manages only resources with labels %s (--label-selector)", id, c.SelectorText))
		default:
			watching = append(watching, c)
		}
	}
	if len(watching) == 0 {
		r.add("watch", Fail, fmt.Sprintf("no operator watches namespace %s with these labels: %s", r.ns, strings.Join(notWatching, "; ")),
			fmt.Sprintf("add %s to the operator's watched namespaces (Helm value watchNamespaces) or fix the labels (Helm value labelSelector)", r.ns))
		for _, c := range op.Controllers {
			r.addController(c)
		}
		return
	}
	for _, c := range watching {
		scope := "all namespaces"
		if len(c.Namespaces) > 0 {
			scope = "namespaces " + strings.Join(c.Namespaces, ",")
		}
		if c.SelectorText != "" {
			scope += ", labels " + c.SelectorText
		}
		r.add("watch", OK, fmt.Sprintf("%s/%s watches %s", c.Deployment.Namespace, c.Deployment.Name, scope), "")
		r.addController(c)
	}
	if len(watching) > 1 {
		r.add("watch", Warn, fmt.Sprintf("%d operators manage this resource: they will fight over its status", len(watching)),
			"give each operator its own namespaces or labels (Helm values watchNamespaces, labelSelector)")
	}
	c := watching[0]
	r.checkRBAC(ctx, c)
	r.checkLogs(c)
}

func (r *run) addController(c Controller) {
	id := fmt.Sprintf("Deployment %s/%s (version %s, service account %s)", c.Deployment.Namespace, c.Deployment.Name, dash(c.Version), c.ServiceAccount)
	switch {
	case c.Wanted == 0:
		r.add("operator", Fail, id+" is scaled to 0", fmt.Sprintf("kubectl scale deployment %s -n %s --replicas=1", c.Deployment.Name, c.Deployment.Namespace))
	case c.Ready == 0:
		r.add("operator", Fail, fmt.Sprintf("%s has no ready replica (0/%d)", id, c.Wanted),
			fmt.Sprintf("kubectl describe deployment %s -n %s, and the logs of its Pods", c.Deployment.Name, c.Deployment.Namespace))
	default:
		r.add("operator", OK, fmt.Sprintf("%s is ready (%d/%d)", id, c.Ready, c.Wanted), "")
	}
}

// checkRBAC asks the API server whether the operator's service account may read what the
// resource references (SubjectAccessReview).
func (r *run) checkRBAC(ctx context.Context, c Controller) {
	type want struct{ resource, name string }
	var wants []want
	for name := range r.ev.Secrets {
		wants = append(wants, want{"secrets", name})
	}
	for _, cm := range r.ev.ConfigMaps {
		wants = append(wants, want{"configmaps", cm.Name})
	}
	sort.Slice(wants, func(i, j int) bool { return wants[i].resource+wants[i].name < wants[j].resource+wants[j].name })
	sa := c.Deployment.Namespace
	user := "system:serviceaccount:" + sa + ":" + c.ServiceAccount
	var denied, allowed []string
	for _, w := range wants {
		sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + sa, "system:authenticated"},
			ResourceAttributes: &authv1.ResourceAttributes{Namespace: r.ns, Verb: "get", Resource: w.resource, Name: w.name},
		}}
		got, err := r.d.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			r.add("rbac", Warn, "cannot ask the API server what the operator may read (SubjectAccessReview): "+explain(err), "")
			return
		}
		what := strings.TrimSuffix(w.resource, "s") + " " + w.name
		if got.Status.Allowed {
			allowed = append(allowed, what)
		} else {
			denied = append(denied, what)
		}
	}
	switch {
	case len(denied) > 0:
		r.add("rbac", Fail, fmt.Sprintf("%s may not get %s in namespace %s", user, strings.Join(denied, ", "), r.ns),
			"grant the operator's service account get/list/watch on secrets and configmaps in this namespace (the Helm chart's ClusterRole does)")
	case len(allowed) > 0:
		r.add("rbac", OK, fmt.Sprintf("%s may get %s", user, strings.Join(allowed, ", ")), "")
	}
}

// checkLogs shows the operator's last log lines that mention the resource.
func (r *run) checkLogs(c Controller) {
	if c.LogErr != "" {
		r.add("logs", Info, fmt.Sprintf("the logs of operator %s/%s cannot be read: %s", c.Deployment.Namespace, c.Deployment.Name, c.LogErr), "")
		return
	}
	var mine []string
	pods := make([]string, 0, len(c.Logs))
	for p := range c.Logs {
		pods = append(pods, p)
	}
	sort.Strings(pods)
	for _, p := range pods {
		for _, l := range c.Logs[p] {
			if mentions(l, r.ns, r.name) {
				mine = append(mine, l)
			}
		}
	}
	r.ev.LogLines = mine
	if len(mine) == 0 {
		r.add("logs", Info, fmt.Sprintf("none of the last %d lines of the operator's log mention %s/%s", r.d.opts.TailLines, r.ns, r.name), "")
		return
	}
	keep := mine[max(0, len(mine)-r.d.opts.LogLines):]
	r.add("logs", Info, fmt.Sprintf("the operator's last %d log line(s) about it:\n%s", len(keep), strings.Join(keep, "\n")), "")
}

// mentions reports whether a log line is about namespace/name: the operator's logr lines carry
// both, as "namespace": "ns", "name": "x" (JSON) or the NamespacedName ns/x.
func mentions(line, ns, name string) bool {
	key := ns + "/" + name
	for i := strings.Index(line, key); i >= 0; {
		end := i + len(key)
		before, after := i == 0 || !nameChar(line[i-1]), end == len(line) || !nameChar(line[end])
		if before && after {
			return true
		}
		j := strings.Index(line[i+1:], key)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return strings.Contains(line, `"`+ns+`"`) && strings.Contains(line, `"`+name+`"`)
}

// nameChar reports whether c may be part of a Kubernetes object name.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}
