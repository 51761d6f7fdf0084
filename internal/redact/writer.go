package redact

import (
	"bytes"
	"io"
	"sync"
)

// MaxLine is the longest partial line a Writer holds back waiting for its newline. Past it, all
// but the last TailLen bytes are redacted and written, so a secret that straddles the cut of
// such a line may escape the patterns (known secrets shorter than TailLen do not).
const (
	MaxLine = 1 << 20
	TailLen = 4096
)

// Writer redacts everything written through it with its Redactor (known secrets, then the
// patterns), line by line: a secret split across two Write calls is still masked, because
// nothing is passed on before its line is complete. Call Flush at the end to pass on a last
// line without newline. Safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	r   *Redactor
	buf []byte
	err error
}

// NewWriter wraps w in a Writer that redacts with r (a new Redactor when r is nil); a *Writer
// that already redacts with r, or any *Writer when r is nil, is returned as is.
func NewWriter(w io.Writer, r *Redactor) *Writer {
	if rw, ok := w.(*Writer); ok && (r == nil || rw.r == r) {
		return rw
	}
	if r == nil {
		r = New()
	}
	return &Writer{w: w, r: r}
}

// For returns the Redactor of the first of ws that is a *Writer, so code that holds only a
// command's streams can register secrets and redact what does not pass through them; a new,
// empty Redactor when none is.
func For(ws ...io.Writer) *Redactor {
	for _, w := range ws {
		if rw, ok := w.(*Writer); ok {
			return rw.r
		}
	}
	return New()
}

// Write buffers p and passes on every complete line, redacted. It reports len(p) written unless
// the underlying writer failed.
func (rw *Writer) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.err != nil {
		return 0, rw.err
	}
	if len(rw.buf) == 0 && len(p) > 0 && p[len(p)-1] == '\n' {
		// whole lines and nothing held back (the common case): no copy into the buffer
		rw.pass(rw.r.String(string(p)))
		return len(p), rw.err
	}
	rw.buf = append(rw.buf, p...)
	n := bytes.LastIndexByte(rw.buf, '\n') + 1
	if n == 0 && len(rw.buf) > MaxLine {
		n = len(rw.buf) - TailLen
	}
	if n > 0 {
		rw.emit(n)
	}
	return len(p), rw.err
}

// emit writes the first n buffered bytes redacted and keeps the rest.
func (rw *Writer) emit(n int) {
	out := rw.r.String(string(rw.buf[:n]))
	rest := copy(rw.buf, rw.buf[n:])
	rw.buf = rw.buf[:rest]
	rw.pass(out)
}

func (rw *Writer) pass(out string) {
	if _, err := io.WriteString(rw.w, out); err != nil {
		rw.err = err
	}
}

// Flush passes on what is buffered, redacted.
func (rw *Writer) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) > 0 && rw.err == nil {
		rw.emit(len(rw.buf))
	}
	return rw.err
}

// Fd is the underlying writer's file descriptor, so terminal detection still sees the terminal
// behind the Writer; ^uintptr(0) when it has none.
func (rw *Writer) Fd() uintptr {
	if f, ok := rw.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// Payload returns the writer for the manifests a verb exists to emit (init -o yaml, configmap,
// healthcheck generate, the kustomize function's ResourceList): they must carry exactly what
// the user put in (an inline --url, the demo database's password) for kubectl apply and
// kustomize to work. The Writer is flushed first so the order of lines is kept. Use it for
// nothing else: messages inside a payload must be redacted by the caller, with For(w).String.
func Payload(w io.Writer) io.Writer {
	if rw, ok := w.(*Writer); ok {
		_ = rw.Flush()
		return rw.w
	}
	return w
}
