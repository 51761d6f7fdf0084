// Package progress writes the one-line progress reports of the waiting verbs (wait, apply) on
// stderr: elapsed time, subject, a coloured status word and the first line of the message.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/kubectl-atlas/kubectl-atlas/internal/redact"
)

// Progress writes progress lines on stderr while a verb waits. It is silent when the writer is
// not a terminal (logs of pipelines get the results, not the chatter), and colours the status
// word only on a terminal without NO_COLOR.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	color   bool
	start   time.Time
}

// New decides from w itself: enabled on a terminal.
func New(w io.Writer) *Progress {
	tty := IsTerminal(w)
	return &Progress{w: w, enabled: tty, color: tty && UseColor(), start: time.Now()}
}

// Enabled says whether lines are written.
func (p *Progress) Enabled() bool { return p != nil && p.enabled }

// Line writes "[elapsed] subject: STATUS message" when enabled.
func (p *Progress) Line(subject, status, message string) {
	if !p.Enabled() {
		return
	}
	p.write(subject, status, message)
}

// Notice writes a line even when stderr is not a terminal: for states a pipeline log must
// show because nothing else will (approval pending, API server unreachable).
func (p *Progress) Notice(subject, status, message string) {
	if p == nil {
		return
	}
	p.write(subject, status, message)
}

// Connection reports the API server becoming unreachable (err) or reachable again (nil), as a
// notice: a pipeline log must say why nothing happens.
func (p *Progress) Connection(err error) {
	if err != nil {
		p.Notice("", "Trouble", "the API server is unreachable, retrying: "+err.Error())
		return
	}
	p.Notice("", "Recovered", "the API server is reachable again")
}

func (p *Progress) write(subject, status, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start).Round(100 * time.Millisecond)
	st := status
	if p.color {
		st = Colorize(status)
	}
	if message != "" {
		message = " " + redact.String(firstLine(message))
	}
	if subject != "" {
		subject += ": "
	}
	fmt.Fprintf(p.w, "[%5.1fs] %s%s%s\n", el.Seconds(), subject, st, message)
}

// IsTerminal reports whether w is a terminal (an *os.File, or a wrapper such as redact.Writer
// that tells the file descriptor behind it).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// UseColor honours NO_COLOR (https://no-color.org) and TERM=dumb.
func UseColor() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// Colorize wraps a health status word in its ANSI colour.
func Colorize(status string) string {
	code := ""
	switch status {
	case "Healthy", "Applied", "Recovered":
		code = "32"
	case "Degraded", "Failed", "Trouble":
		code = "31"
	case "Progressing", "Missing", "Waiting":
		code = "33"
	case "Suspended":
		code = "36"
	default:
		return status
	}
	return "\x1b[" + code + "m" + status + "\x1b[0m"
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}
