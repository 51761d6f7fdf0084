package atlas

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Atlas's order (migrate.LocalDir lists files by name; Executor.Pending compares versions as
// strings): with unpadded versions the directory is [10, 9] and 10 runs first.
func TestPendingVersionsAtlasOrder(t *testing.T) {
	dir := []string{"10", "9"}
	assert.Equal(t, []string{"10", "9"}, PendingVersions(dir, ""))
	assert.Equal(t, []string{"9"}, PendingVersions(dir, "10"))
	assert.Equal(t, []string{}, PendingVersions(dir, "9"))
	ts := []string{"20240101000000", "20240102000000", "20240103000000"}
	assert.Equal(t, ts[1:], PendingVersions(ts, "20240101000000"))
	assert.Equal(t, ts, PendingVersions(ts, "1")) // every version is above the last revision
	assert.Equal(t, []string{}, PendingVersions(ts, "20250101000000"))

	assert.True(t, VersionApplied("10", "9"))
	assert.False(t, VersionApplied("9", "10"))
	assert.True(t, VersionApplied("9", "9"))
	assert.False(t, VersionApplied("1", ""))
}
