package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// checkEvents reads the Events about the resource (the operator records one per failure, per
// applied version, per dev database it creates).
func (r *run) checkEvents(ctx context.Context) {
	sel := fields.Set{"involvedObject.uid": string(r.obj.GetUID())}.AsSelector().String()
	list, err := r.d.kube.CoreV1().Events(r.ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		r.add("events", Warn, "cannot list Events: "+explain(err), "")
		return
	}
	evs := list.Items
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(&evs[i]).Time.Before(eventTime(&evs[j]).Time) })
	for i := range evs {
		evs[i].Message = r.d.opts.Redactor.String(evs[i].Message)
		evs[i].ManagedFields = nil
	}
	r.ev.Events = evs
	if len(evs) == 0 {
		r.add("events", Info, "no Events about it (the API server keeps Events for an hour by default)", "")
		return
	}
	var warnings []corev1.Event
	for _, e := range evs {
		if e.Type == corev1.EventTypeWarning {
			warnings = append(warnings, e)
		}
	}
	last := evs[len(evs)-1]
	if len(warnings) == 0 {
		r.add("events", OK, fmt.Sprintf("%d Event(s), none a warning; latest: %s", len(evs), eventLine(&last)), "")
		return
	}
	lines := []string{fmt.Sprintf("%d warning Event(s) of %d; the latest:", len(warnings), len(evs))}
	for _, e := range warnings[max(0, len(warnings)-3):] {
		lines = append(lines, "  "+eventLine(&e))
	}
	r.add("events", Warn, strings.Join(lines, "\n"), "")
}

func eventLine(e *corev1.Event) string {
	s := e.Reason + ": " + strings.Join(strings.Fields(e.Message), " ")
	if e.Count > 1 {
		s += fmt.Sprintf(" (x%d)", e.Count)
	}
	if src := e.Source.Component; src != "" {
		s += " [" + src + "]"
	} else if e.ReportingController != "" {
		s += " [" + e.ReportingController + "]"
	}
	return s
}

func eventTime(e *corev1.Event) metav1.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp
	case !e.EventTime.IsZero():
		return metav1.Time{Time: e.EventTime.Time}
	}
	return e.FirstTimestamp
}
