//go:build e2e

package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDemoRealOperator runs `make demo` as a user with an atlas CLI sees it (`make e2e` provides
// E2E_ATLAS, which hack/atlas.sh finds again): the real operator applies the migrations to a
// SQLite file and the demo ends with the tables it created.
func TestDemoRealOperator(t *testing.T) {
	log := runDemo(t)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`the REAL Atlas Operator v0\.7\.37 \(bin/atlas-operator\), running \S+/atlas`),
		regexp.MustCompile(`Atlas Operator v0\.7\.37 running \S+ \(atlas version v`),
		regexp.MustCompile(`atlasmigration/blog healthy \(version 20240602120000\)`),
		regexp.MustCompile(`(?m)^blog\s+AtlasMigration\s+Healthy\s+Applied\s+20240602120000\b`),
		regexp.MustCompile("(?m)^CREATE TABLE `users` "),
		regexp.MustCompile("(?m)^CREATE TABLE `posts` .*`published_at` datetime NULL"),
		regexp.MustCompile(`control plane stopped`),
	} {
		assert.Regexp(t, want, log)
	}
	assert.NotContains(t, log, "PLAYS THE ATLAS OPERATOR")
	assert.NotContains(t, log, "This Atlas edition lacks support", "a community build's notice stays out of the tables")
	assert.Greater(t, strings.Index(log, "CREATE TABLE `posts`"), strings.Index(log, "healthcheck generate"), "the demo ends with the tables")
}
