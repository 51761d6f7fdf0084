package exitcode

import (
	"errors"
	"fmt"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Code(tt.err))
		})
	}
	assert.Nil(t, New(Failure, nil))
	assert.ErrorIs(t, New(Degraded, base), base)
}
