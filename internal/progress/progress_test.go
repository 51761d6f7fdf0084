package progress

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Off a terminal, Line is silent and Notice and Connection still write, redacted, one line each.
func TestOffTerminalOnlyNotices(t *testing.T) {
	var b bytes.Buffer
	p := New(&b)
	assert.False(t, p.Enabled(), "a buffer is not a terminal")
	p.Line("atlasmigration/a", "Progressing", "applying")
	assert.Empty(t, b.String())
	p.Notice("atlasmigration/a", "Suspended", "approve at https://u:hunter2@example.com/plan\nsecond line")
	p.Connection(errors.New("dial tcp: connection refused"))
	p.Connection(nil)
	out := b.String()
	assert.Contains(t, out, "atlasmigration/a: Suspended approve at")
	assert.NotContains(t, out, "hunter2")
	assert.Contains(t, out, " ...\n", "only the first line of a message")
	assert.Contains(t, out, "Trouble the API server is unreachable, retrying: dial tcp: connection refused")
	assert.Contains(t, out, "Recovered the API server is reachable again")
	assert.Equal(t, 3, bytes.Count(b.Bytes(), []byte("\n")))

	var none *Progress
	none.Line("x", "Healthy", "")
	none.Connection(nil) // a verb without progress passes nil
}

func TestColorize(t *testing.T) {
	assert.Equal(t, "\x1b[31mDegraded\x1b[0m", Colorize("Degraded"))
	assert.Equal(t, "Other", Colorize("Other"))
}
