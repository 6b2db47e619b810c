package formats

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/testtool"
)

// FuzzDecoders feeds every decoder the same bytes: none may panic, and an
// accepted article must be one the pipeline can carry (valid UTF-8, a safe
// id if any, a body).
func FuzzDecoders(f *testing.F) {
	f.Add(read(f, "fixtures", "seed-article.txt"))
	// The head of a real page: whole pages make the mutator crawl.
	f.Add(htmlPage(f)[:8<<10])
	dir := filepath.Join(testtool.SharedDir(f), "conformance", "ninjs", "examples")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"headline": "h", "body": "b", "bylines": ["x", {"name": "y"}], "images": [{"url": "https://e.com/a.jpg"}], "publish_at": "2030-01-01T00:00:00Z"}`))
	f.Add([]byte("# Headline\n\nBody *text*."))
	f.Add([]byte(`{"headline": "x", "associations": {"a": {"type": "picture", "renditions": {"r": {"href": "https://e.com/x.jpg"}}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		jsonPathsAgree(t, body)
		for name, d := range map[string]Decoder{"json": JSON, "text": Text, "markdown": Markdown, "html": HTML, "ninjs": Ninjs} {
			a, errs := d(body)
			if len(errs) > 0 {
				continue
			}
			if a == nil {
				t.Fatalf("%s: no article and no error", name)
			}
			if !utf8.ValidString(a.Body) || !utf8.ValidString(a.Headline) {
				t.Fatalf("%s: accepted invalid UTF-8", name)
			}
			if a.Id != "" && bus.ValidateArticleID(a.Id) != nil {
				t.Fatalf("%s: accepted unsafe id %q", name, a.Id)
			}
			if a.Body == "" {
				t.Fatalf("%s: accepted an empty body", name)
			}
		}
	})
}

// FuzzJSONString: the string decoder ingest uses on the common path reads
// every valid JSON string literal exactly as encoding/json does.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{``, `plain`, `a\nb\tc\"d\\e\/f\bg\fh\ri`, `\u00e9\u0041`, `\ud83d\ude00 emoji`,
		`\ud83d lone high`, `\ude00 lone low`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`, "caf\xc3\xa9", "bad \xff byte", "\xed\xa0\x80", `\u0000`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, inner []byte) {
		lit := append(append([]byte{'"'}, inner...), '"')
		if !json.Valid(lit) {
			return
		}
		var want string
		if err := json.Unmarshal(lit, &want); err != nil {
			t.Fatal(err)
		}
		if got := jsonString(lit); got != want {
			t.Fatalf("jsonString(%q) = %q, encoding/json says %q", lit, got, want)
		}
	})
}

// FuzzTopObject: the one-pass reader of a submission's top-level object
// accepts exactly what encoding/json reads into a map[string]json.RawMessage,
// with the same keys and the same bytes for each value.
func FuzzTopObject(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : 1 } `, `{"a":1,"a":2}`, `{"a\u00e9":"x\"y","b":[1,-2.5e+3,true,false,null,{"c":{}}]}`,
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":[1,]}`, `{"a":1,}`,
		`[1]`, `null`, `{"a":1} x`, `{"a" 1}`, `{"a":tru}`, `{"a":1e}`, "{\"a\":\"caf\xc3\xa9\",\"\xff\":1}", `{"a":{"b":[[[]]]}}`} {
		f.Add([]byte(s))
	}
	f.Add(read(f, "fixtures", "seed-article.txt"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := topObject(body)
		var want map[string]json.RawMessage
		wantOK := json.Unmarshal(body, &want) == nil && want != nil
		if ok != wantOK {
			t.Fatalf("topObject(%q) ok = %v, encoding/json %v", body, ok, wantOK)
		}
		if !ok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("topObject(%q): %d keys, encoding/json %d", body, len(got), len(want))
		}
		for k, v := range want {
			if g, has := got[k]; !has || string(g) != string(v) {
				t.Fatalf("topObject(%q)[%q] = %q, encoding/json %q", body, k, g, v)
			}
		}
	})
}
