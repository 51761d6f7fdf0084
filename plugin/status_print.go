package plugin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-atlas/kubectl-atlas/internal/atlas"
	"github.com/kubectl-atlas/kubectl-atlas/internal/exitcode"
	"github.com/kubectl-atlas/kubectl-atlas/internal/status"
)

// recordPrinter prints status records: our table (-o wide, --no-headers), or one of
// cli-runtime's printers (json, yaml, name, jsonpath, go-template) on a List of the records.
type recordPrinter struct {
	wide, noHeaders bool
	printer         printers.ResourcePrinter // nil for the table
	json            bool                     // -o json: streamJSON writes the List
}

func newRecordPrinter(flags *genericclioptions.PrintFlags, noHeaders bool) (*recordPrinter, error) {
	p := &recordPrinter{noHeaders: noHeaders}
	switch *flags.OutputFormat {
	case "":
		return p, nil
	case "wide":
		p.wide = true
		return p, nil
	}
	pr, err := flags.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		return nil, exitcode.UsageErrorf("--output must be wide, %s, not %q", strings.Join(flags.AllowedFormats(), ", "), *flags.OutputFormat)
	}
	if err != nil {
		return nil, exitcode.UsageErrorf("--output: %v", err)
	}
	p.printer = pr
	p.json = *flags.OutputFormat == "json"
	return p, nil
}

func (p *recordPrinter) table() bool { return p.printer == nil }

// list prints every record: the table with its header, or one List.
func (p *recordPrinter) list(w io.Writer, cols []column, recs []status.Record) error {
	if !p.table() {
		return p.objects(w, recs)
	}
	tw := newTable(w)
	if !p.noHeaders {
		fmt.Fprintln(tw, header(cols))
	}
	for i := range recs {
		fmt.Fprintln(tw, row(cols, &recs[i]))
	}
	return tw.Flush()
}

// objects prints recs as one List through the chosen printer.
func (p *recordPrinter) objects(w io.Writer, recs []status.Record) error {
	if p.json && len(recs) > 0 {
		return streamJSON(w, recs)
	}
	items := make([]any, len(recs))
	for i := range recs {
		items[i] = &recs[i]
	}
	return printList(p.printer, w, items)
}

// printList prints items (values shaped like Kubernetes objects: status records, doctor
// results) as one List through one of cli-runtime's printers.
func printList(pr printers.ResourcePrinter, w io.Writer, items []any) error {
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}}}
	list.Items = make([]unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		u, err := item(it)
		if err != nil {
			return err
		}
		list.Items = append(list.Items, *u)
	}
	return pr.PrintObj(list, w)
}

// item is a record as the List's printer sees it: through JSON into unstructured content
// (integers as int64), so its keys come out sorted as the printer writes them.
func item(r any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var u unstructured.Unstructured
	return &u, u.UnmarshalJSON(b)
}

// streamJSON writes recs as the List cli-runtime's JSON printer writes (same bytes, tested),
// one item at a time: the printer needs every item as a map and the whole List marshalled at
// once, several copies of the records in memory, where status -A must hold only the records.
func streamJSON(w io.Writer, recs []status.Record) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
	var buf bytes.Buffer
	for i := range recs {
		u, err := item(&recs[i])
		if err != nil {
			return err
		}
		b, err := json.Marshal(u.Object)
		if err != nil {
			return err
		}
		buf.Reset()
		if err := json.Indent(&buf, b, "        ", "    "); err != nil {
			return err
		}
		bw.WriteString("        ")
		bw.Write(buf.Bytes())
		if i < len(recs)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("    ],\n    \"kind\": \"List\",\n    \"metadata\": {}\n}\n")
	return bw.Flush()
}

// identity is what --watch compares to tell a change: the printed columns without the ones
// that move with the clock, or the whole record.
func (p *recordPrinter) identity(cols []column, r *status.Record) string {
	if !p.table() {
		b, _ := json.Marshal(r)
		return string(b)
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		if c.stable != nil {
			cells[i] = c.stable(r)
		} else {
			cells[i] = c.cell(r)
		}
	}
	return strings.Join(cells, "\t")
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) }

// column is one table column.
type column struct {
	header string
	cell   func(r *status.Record) string
	// stable, if set, replaces a cell that changes with the clock (an age) when --watch compares.
	stable func(r *status.Record) string
}

func header(cols []column) string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.header
	}
	return strings.Join(h, "\t")
}

func row(cols []column, r *status.Record) string {
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = c.cell(r)
	}
	return strings.Join(cells, "\t")
}

// columns are the table's columns for these options.
func (o *StatusOptions) columns() []column {
	var cols []column
	if o.AllNamespaces {
		cols = append(cols, column{header: "NAMESPACE", cell: func(r *status.Record) string { return r.Metadata.Namespace }})
	}
	cols = append(cols,
		column{header: "NAME", cell: func(r *status.Record) string { return r.Metadata.Name }},
		column{header: "KIND", cell: func(r *status.Record) string { return r.Kind }},
		column{header: "HEALTH", cell: healthCell},
		column{header: "REASON", cell: func(r *status.Record) string { return dash(r.Status.Reason) }},
		column{header: "APPLIED", cell: o.appliedCell, stable: func(r *status.Record) string { return r.Status.LastApplied + " " + r.Status.LastAppliedVersion }},
		column{header: "AGE", cell: func(r *status.Record) string { return duration.HumanDuration(r.Age(o.now())) }, stable: func(*status.Record) string { return "" }},
	)
	wide := o.printer != nil && o.printer.wide
	if o.Dir != "" {
		cols = append(cols, column{header: "PENDING", cell: func(r *status.Record) string { return pendingCell(r, wide) }})
	}
	if wide {
		cols = append(cols,
			column{header: "GENERATION", cell: func(r *status.Record) string {
				return strconv.FormatInt(r.Status.ObservedGeneration, 10) + "/" + strconv.FormatInt(r.Metadata.Generation, 10)
			}},
			column{header: "FAILED", cell: func(r *status.Record) string { return strconv.FormatInt(r.Status.Failed, 10) }},
			column{header: "URL", cell: urlCell},
			column{header: "MESSAGE", cell: func(r *status.Record) string { return dash(strings.Join(strings.Fields(r.ReadyMessage()), " ")) }},
		)
		return cols
	}
	return append(cols, column{header: "MESSAGE", cell: func(r *status.Record) string { return dash(firstLineOf(r.ReadyMessage())) }})
}

func healthCell(r *status.Record) string {
	if r.Status.Deleted {
		return "Deleted"
	}
	return string(r.Status.Health)
}

func (o *StatusOptions) appliedCell(r *status.Record) string {
	if r.Kind == atlas.KindAtlasSchema && !r.LastAppliedAt().IsZero() {
		return duration.HumanDuration(o.now().Sub(r.LastAppliedAt())) + " ago"
	}
	return dash(r.Status.LastAppliedVersion)
}

func urlCell(r *status.Record) string {
	if r.Status.ApprovalURL != "" {
		return r.Status.ApprovalURL
	}
	return dash(r.Status.PlanURL)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pendingCell(r *status.Record, wide bool) string {
	if r.Kind != atlas.KindAtlasMigration {
		return "-"
	}
	pending := r.Status.Pending
	if len(pending) == 0 {
		return "0"
	}
	list, more := pending, ""
	if !wide && len(list) > 3 {
		list, more = list[:3], ",..."
	}
	return fmt.Sprintf("%d (%s%s)", len(pending), strings.Join(list, ","), more)
}
