package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/cases.json is the shared table of shapes: healthcheck and healthcheck/argocdtest run
// it through the health scripts' Lua redaction too.
func TestPatterns(t *testing.T) {
	b, err := os.ReadFile("testdata/cases.json")
	require.NoError(t, err)
	var cases []struct{ In, Want string }
	require.NoError(t, json.Unmarshal(b, &cases))
	for _, tc := range cases {
		assert.Equal(t, tc.Want, Patterns(tc.In), tc.In)
		assert.Equal(t, tc.Want, Patterns(tc.Want), "redacting twice changes nothing more: %s", tc.In)
	}
}

func TestKnownSecrets(t *testing.T) {
	var r Redactor                   // the zero value is ready
	r.Add("s3cr\"et/pa ss", "short") // "short" is too short to register
	r.AddURL("https://bob:ghp_Tok3n@github.com/acme/deploy.git")
	r.AddURL("https://ghp_OnlyUserTok3n@github.com/acme/deploy.git")
	r.AddURL("postgres://admin:bad%zzpass@db/app") // unparsable: the grammar still finds it
	r.AddSecretData(map[string]string{"url": "mysql://root:fromSecret@db/x", "cert": "-----BEGIN-----\nMIIBlineOfTheCert\n-----END-----"})
	for _, tc := range []struct{ in, want string }{
		{"plain s3cr\"et/pa ss here", "plain xxxxx here"},
		{`quoted "s3cr\"et/pa ss"`, `quoted "xxxxx"`},
		{"escaped s3cr%22et%2Fpa+ss", "escaped xxxxx"},
		{"path s3cr%22et%2Fpa%20ss", "path xxxxx"},
		{"short stays", "short stays"},
		{"clone failed for ghp_Tok3n", "clone failed for xxxxx"},
		{"remote: ghp_OnlyUserTok3n rejected", "remote: xxxxx rejected"},
		{`parse "postgres://admin:bad%zzpass@db/app": invalid URL escape "%zz"`, `parse "postgres://admin:xxxxx@db/app": invalid URL escape "%zz"`},
		{"got fromSecret", "got xxxxx"},
		{"line MIIBlineOfTheCert", "line xxxxx"},
	} {
		assert.Equal(t, tc.want, r.String(tc.in), tc.in)
	}
	r.AddSpec(map[string]any{"url": "postgres://app:sp3cUrlPass@db/app", "credentials": map[string]any{"password": "sp3cFieldPass"}})
	assert.Equal(t, "xxxxx xxxxx", r.String("sp3cUrlPass sp3cFieldPass"))
	assert.Equal(t, "got fromSecret", String("got fromSecret"), "the package-level String knows no secret")
	assert.Equal(t, "got fromSecret", New().String("got fromSecret"), "nor does another Redactor")
	assert.Equal(t, "password=xxxxx", (*Redactor)(nil).String("password=x"), "a nil Redactor applies the patterns")
}

// Two Redactors do not share what they learn: two commands in one process (two Writers)
// mask each its own secrets; For finds a Writer's Redactor.
func TestRedactorsApart(t *testing.T) {
	var outA, outB bytes.Buffer
	a, b := NewWriter(&outA, nil), NewWriter(&outB, New())
	For(a).Add("OnlyKnownToA1")
	For(io.Discard, b).Add("OnlyKnownToB1")
	_, _ = fmt.Fprintln(a, "OnlyKnownToA1 OnlyKnownToB1")
	_, _ = fmt.Fprintln(b, "OnlyKnownToA1 OnlyKnownToB1")
	assert.Equal(t, "xxxxx OnlyKnownToB1\n", outA.String())
	assert.Equal(t, "OnlyKnownToA1 xxxxx\n", outB.String())
	assert.NotSame(t, For(&outA), For(&outA), "a stream that is no Writer has no Redactor of its own")
	assert.Same(t, a, NewWriter(a, For(a)), "wrapping a Writer again with its Redactor is the same Writer")
	assert.NotSame(t, a, NewWriter(a, For(b)), "another Redactor wraps it")
}

func TestWriterSplitWrites(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, nil)
	For(w).Add("SplitSecret123")
	msg := "error: connecting to mysql://root:p@ss@db:3306/x (SplitSecret123) password=hunter2\nnext line\npartial Split"
	for i := 0; i < len(msg); i += 3 { // every secret straddles some Write boundary
		_, err := w.Write([]byte(msg[i:min(i+3, len(msg))]))
		require.NoError(t, err)
	}
	assert.Equal(t, "error: connecting to mysql://root:xxxxx@db:3306/x (xxxxx) password=xxxxx\nnext line\n", out.String(), "the partial line waits")
	require.NoError(t, w.Flush())
	assert.Equal(t, "error: connecting to mysql://root:xxxxx@db:3306/x (xxxxx) password=xxxxx\nnext line\npartial Split", out.String())
	assert.Same(t, w, NewWriter(w, nil), "wrapping twice is one Writer")
	_, _ = w.Write([]byte("password=x\n"))
	_, _ = fmt.Fprint(Payload(w), "password=raw\n")
	assert.True(t, strings.HasSuffix(out.String(), "password=xxxxx\npassword=raw\n"), out.String())
}

func TestWriterLongLine(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, nil)
	line := strings.Repeat("a", MaxLine) + " password=hunter2"
	_, _ = w.Write([]byte(line))
	assert.Equal(t, len(line)-TailLen, out.Len(), "a line past MaxLine is passed on but its tail")
	require.NoError(t, w.Flush())
	assert.True(t, strings.HasSuffix(out.String(), " password=xxxxx"))
}

// FuzzString: a secret put in any supported shape, between any texts, never survives String.
func FuzzString(f *testing.F) {
	for i := range fuzzShapes {
		f.Add("Error:", "hunter2", "and more", uint8(i))
		f.Add("", "p@ss:w/rd", "", uint8(i))
	}
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string, shape uint8) {
		sh := fuzzShapes[int(shape)%len(fuzzShapes)]
		if len(secret) < sh.min || strings.ContainsAny(secret, sh.forbid) || strings.ContainsAny(secret, " \t\r\n") {
			return
		}
		if sh.tokenOnly && strings.IndexFunc(secret, func(r rune) bool { return r > 127 || !isTokenChar(byte(r)) }) >= 0 {
			return
		}
		msg := prefix + " " + fmt.Sprintf(sh.format, secret) + " " + suffix
		rest := prefix + " " + fmt.Sprintf(sh.format, Marker) + " " + suffix
		if strings.Contains(rest, secret) {
			return // the secret is also plain text of the message
		}
		out := String(msg)
		assert.NotContains(t, out, secret, "shape %q, in: %q", sh.format, msg)
		assert.Equal(t, out, String(out), "redacting twice changes nothing more")
	})
}

var fuzzShapes = []struct {
	format, forbid string
	min            int
	tokenOnly      bool
}{
	{"mysql://root:%s@db:3306/app", "\"'`<>/?#", 1, false},
	{"root:%s@tcp(db:3306)/app", "\"'`<>", 1, false},
	{"password=%s", "&;\"'", 1, false},
	{"PGPASSWORD=%s psql", "&;\"'", 1, false},
	{"DB_PASSWORD=%s", "&;\"'", 1, false},
	{"jdbc:postgresql://db/app?user=u&password=%s&ssl=true", "&;\"'#", 1, false},
	{"host=db sslpassword=%s", "&;\"'", 1, false},
	{"https://h/x?token=%s", "&;\"'#", 1, false},
	{"client secret=%s", "&;\"'", 1, false},
	{`password="%s"`, "\"\\\n", 1, false},
	{`password: %s`, "&;\"'", 1, false},
	{`{"password":"%s"}`, "\"\\\n", 1, false},
	{`{\"password\":\"%s\"}`, "\"\\\n", 1, false},
	{`conninfo "host=db password='%s' user=u"`, "'\\\n", 1, false},
	{"Authorization: Bearer %s", "\r\n\"'", 1, false},
	{"Authorization: Basic %s", "\r\n\"'", 1, false},
	{"got Bearer %s from", "", 8, true},
}

// statusTable is what `kubectl atlas status -o wide` prints for 1,000 failed resources whose
// messages quote a URL with its password: every line has something to mask.
func statusTable() []byte {
	var b bytes.Buffer
	b.WriteString("NAME     KIND             HEALTH     REASON      APPLIED   AGE   GENERATION   FAILED   URL   MESSAGE\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "m-%04d   AtlasMigration   Degraded   Migrating   -         5m    1/1          3        -     Migrating: Error: connecting to postgres://app:pw%04d@db:5432/app: connection refused\n", i, i)
	}
	return b.Bytes()
}

// BenchmarkWriter: the choke point alone on 1,000 status lines, written as tabwriter writes
// them (one Write per line), against io.Discard; B/op and ns/op are the whole cost per run.
func BenchmarkWriter(b *testing.B) {
	r := New()
	r.Add("KnownSecretForBench")
	benchWriter(b, statusTable(), r)
}

// BenchmarkWriterClean: the same volume of lines with nothing to mask (the common case).
func BenchmarkWriterClean(b *testing.B) {
	benchWriter(b, bytes.ReplaceAll(statusTable(), []byte("postgres://app:pw"), []byte("postgres-host-db-")), New())
}

func benchWriter(b *testing.B, data []byte, r *Redactor) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w := NewWriter(io.Discard, r)
		for _, l := range lines {
			_, _ = w.Write(l)
		}
		_ = w.Flush()
	}
}
