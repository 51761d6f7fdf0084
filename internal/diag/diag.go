// Package diag is the one shape in which the libraries report what a user should know about
// their input without it being an error: a severity, a code, a place (file and line) and a
// text in neutral words. Libraries return diagnostics and never print them or name a flag;
// each entry point phrases the fix in its own terms with a Fixes table (flags for the CLI,
// config fields for the kustomize generator) and prints them (stderr, ResourceList.results).
package diag

import (
	"fmt"
	"path"
	"strings"
)

// Severity is how much a diagnostic matters.
type Severity uint8

const (
	// Info needs no action ("note:").
	Info Severity = iota
	// Warning is something to review ("warning:").
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "note"
}

// Diagnostic is one remark about the input.
type Diagnostic struct {
	Severity Severity
	// Code names the case, so an entry point can add its own fix (DS101, or a word such as
	// needs-token); "" for remarks that call for no fix of the caller's.
	Code string
	// File is the file the user edits, "" for none; Line is 1-based, 0 for the whole file.
	File    string
	Line    int
	Message string
}

// String is "file:line: " (when there is a place), then "code: " for the codes atlas lint
// names (DS...), then the message.
func (d Diagnostic) String() string {
	msg := d.Message
	if Linted(d.Code) {
		msg = d.Code + ": " + msg
	}
	switch {
	case d.File != "" && d.Line > 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, msg)
	case d.File != "":
		return d.File + ": " + msg
	}
	return msg
}

// Linted reports whether code is one of atlas lint's codes (two capitals and three digits:
// DS103, MF101, ...), which the text carries.
func Linted(code string) bool {
	if len(code) != 5 {
		return false
	}
	for i := range 5 {
		c := code[i]
		if i < 2 && (c < 'A' || c > 'Z') || i >= 2 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Destructive reports whether code is one of atlas's destructive-change codes (DS...).
func Destructive(code string) bool { return Linted(code) && code[:2] == "DS" }

// In returns d with its file named below dir (slash-separated), as the user named dir.
func (d Diagnostic) In(dir string) Diagnostic {
	if d.File != "" && dir != "" {
		d.File = path.Join(dir, d.File)
	}
	return d
}

// Fixes are an entry point's words for the fix of each code: appended after ": ", or, when the
// fix holds %s, a format the text goes into.
type Fixes map[string]string

// Text is d with the fix for its code, if the entry point has one.
func (f Fixes) Text(d Diagnostic) string {
	fix := f[d.Code]
	switch {
	case fix == "":
		return d.String()
	case strings.Contains(fix, "%s"):
		return fmt.Sprintf(fix, d.String())
	}
	return d.String() + ": " + fix
}

// Phrase is d as an entry point prints it: "note: " or "warning: ", then its Text.
func (f Fixes) Phrase(d Diagnostic) string { return d.Severity.String() + ": " + f.Text(d) }
