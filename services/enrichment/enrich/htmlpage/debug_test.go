package htmlpage

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDebugCredits(t *testing.T) {
	keys := os.Getenv("DEBUG_KEYS")
	if keys == "" {
		t.Skip()
	}
	for _, k := range strings.Split(keys, ",") {
		m, _ := filepath.Glob("/work/shared/eval/naeb-dev/html/" + k + "*")
		f, _ := os.Open(m[0])
		z, _ := gzip.NewReader(f)
		b, _ := io.ReadAll(z)
		p := Parse(string(b))
		t.Logf("=== %s headline=%q (%s) pubs=%q canon=%s", k, p.Headline, p.HeadlineSource, p.Publishers, p.Canonical)
		for _, c := range p.Credits {
			t.Logf("  %-14s %-22s org=%v d=%d %q", c.Source, c.Rule, c.Org, c.AfterHeadline, c.Raw)
		}
		if os.Getenv("DEBUG_BODY") != "" {
			for _, bl := range p.Blocks {
				t.Logf("  [%d/%d] %.120s", bl.Kind, bl.Level, bl.Text)
			}
		}
	}
}
