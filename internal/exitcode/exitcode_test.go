package exitcode

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCode(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain error", base, Failure},
		{"usage", UsageErrorf("missing --dir"), Usage},
		{"wrapped twice", fmt.Errorf("ctx: %w", New(Timeout, base)), Timeout},
		{"degraded", New(Degraded, base), Degraded},
		// The cause decides, however it is wrapped and whatever code a layer put on it.
		{"deadline inside a request", fmt.Errorf("applying x: %w", &url.Error{Op: "Patch", URL: "https://h", Err: context.DeadlineExceeded}), Timeout},
		{"deadline under a Failure", New(Failure, fmt.Errorf("list: %w", context.DeadlineExceeded)), Timeout},
		{"interrupt", fmt.Errorf("wave 1 failed: %w", context.Canceled), Interrupted},
		{"typed degraded", fmt.Errorf("wave 0 failed: %w", degraded{}), Degraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Code(tt.err))
		})
	}
	assert.Nil(t, New(Failure, nil))
	assert.ErrorIs(t, New(Degraded, base), base)
}

type degraded struct{}

func (degraded) Error() string  { return "x is Degraded" }
func (degraded) Degraded() bool { return true }
