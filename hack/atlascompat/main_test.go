package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRewriteVersion(t *testing.T) {
	out := rewriteVersion([]byte("atlas community version v1.2.3\nhttps://github.com/ariga/atlas/releases/tag/v1.2.3\n"))
	assert.Equal(t, "atlas version v1.2.3\nhttps://github.com/ariga/atlas/releases/tag/v1.2.3\n", string(out))
	assert.Equal(t, "atlas version v1.2.3\n", string(rewriteVersion([]byte("atlas version v1.2.3\n"))), "official form unchanged")
}

func TestWithoutHashFormat(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rest []string
		ok   bool
	}{
		{[]string{"schema", "inspect", "--env", "kubernetes", "--format", "{{ .Hash }}"}, []string{"schema", "inspect", "--env", "kubernetes"}, true},
		{[]string{"schema", "inspect", "--format={{ .Hash }}", "--url", "x"}, []string{"schema", "inspect", "--url", "x"}, true},
		{[]string{"schema", "inspect", "--format", "{{ sql . }}"}, []string{"schema", "inspect", "--format", "{{ sql . }}"}, false},
		{[]string{"schema", "inspect", "--format", "{{ .Hash | base64url }}"}, []string{"schema", "inspect", "--format", "{{ .Hash | base64url }}"}, false},
	} {
		rest, ok := withoutHashFormat(tc.args)
		assert.Equal(t, tc.ok, ok, tc.args)
		if ok {
			assert.Equal(t, tc.rest, rest)
		}
	}
}
