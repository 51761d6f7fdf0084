package migdir

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The versions written for files that run again when edited read back; others do not.
func TestParseRerunVersion(t *testing.T) {
	r, ok := ParseRerunVersion(encodeRepeatable("views", 0x635c0533))
	assert.True(t, ok)
	assert.Equal(t, RerunVersion{Repeatable: true, Base: "views", Checksum: "635c0533"}, r)
	assert.Equal(t, "zhggjgfhhhd-635c0533", encodeRepeatable("views", 0x635c0533), "docs/init.md's example")

	r, ok = ParseRerunVersion(encodeRepeatable("Ä view", 7))
	assert.True(t, ok)
	assert.Equal(t, RerunVersion{Repeatable: true, Base: "Ä view", Checksum: "00000007"}, r)

	r, ok = ParseRerunVersion("001a1-0badf00d")
	assert.True(t, ok)
	assert.Equal(t, RerunVersion{Base: "001a1", Checksum: "0badf00d"}, r, "a Liquibase runOnChange changeset")

	for _, v := range []string{"20240101000000", "a1", "b42", "zhggjgfhhhd", "-635c0533", "x-635c053", "x-635C0533", "n20240101-12"} {
		_, ok := ParseRerunVersion(v)
		assert.False(t, ok, v)
	}
}
