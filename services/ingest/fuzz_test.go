package ingest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/testtool"
)

var fuzzContentTypes = []string{
	"application/json", "text/plain; charset=utf-8", "text/markdown", "text/html", "application/ninjs+json",
	"", "application/json; profile=ninjs", "text/plain; charset=latin1", "image/png", "multipart/form-data; boundary=x",
}

// FuzzSubmit drives the real HTTP handler, on a real nats-server, with
// arbitrary bodies, content types, ids and headers on every route: no
// input may panic or get a 5xx, and whatever is accepted has a safe id.
func FuzzSubmit(f *testing.F) {
	// The consumers stay off: their background work would look like new
	// coverage to the fuzzer on every run.
	e := startEnvWith(f, "", Config{}, true)
	f.Add(uint8(0), uint8(1), "", "", seedPaste(f))
	f.Add(uint8(0), uint8(3), "", "", htmlPage(f)[:8<<10])
	f.Add(uint8(0), uint8(0), "", "k1", []byte(`{"headline": "h", "body": "b", "bylines": ["x"], "images": [{"url": "https://e.com/a.jpg"}], "publish_at": "2030-01-01T00:00:00Z"}`))
	f.Add(uint8(1), uint8(2), "story-1", `"1"`, []byte("# Revised\n\ntext"))
	f.Add(uint8(2), uint8(0), "story-1", "k2", []byte(`{"reason": "legal"}`))
	f.Add(uint8(3), uint8(5), "a.b*>", "", []byte{})
	f.Add(uint8(4), uint8(5), "state=published&limit=2&cursor=x", "", []byte{})
	dir := filepath.Join(testtool.SharedDir(f), "conformance", "ninjs", "examples")
	entries, _ := os.ReadDir(dir)
	for _, ent := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, ent.Name())); err == nil {
			f.Add(uint8(0), uint8(4), "", "", b)
		}
	}
	f.Fuzz(func(t *testing.T, route, ct uint8, param, header string, body []byte) {
		var req *http.Request
		switch route % 5 {
		case 0:
			req = httptest.NewRequest("POST", "/v1/articles", bytes.NewReader(body))
			req.Header.Set(HeaderIdempotencyKey, header)
		case 1:
			req = httptest.NewRequest("PUT", "/v1/articles/x", bytes.NewReader(body))
			req.URL.Path = "/v1/articles/" + param
			req.Header.Set("If-Match", header)
		case 2:
			req = httptest.NewRequest("POST", "/v1/articles/x/retract", bytes.NewReader(body))
			req.URL.Path = "/v1/articles/" + param + "/retract"
			req.Header.Set(HeaderIdempotencyKey, header)
		case 3:
			req = httptest.NewRequest("GET", "/v1/articles/x", nil)
			req.URL.Path = "/v1/articles/" + param
		case 4:
			req = httptest.NewRequest("GET", "/v1/articles", nil)
			req.URL.RawQuery = param
		}
		req.Header.Set("Authorization", "Bearer "+deskToken)
		if c := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body)
		}
		mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		if rec.Code >= 400 && mt != "application/problem+json" {
			t.Fatalf("%d answered as %q", rec.Code, mt)
		}
		if rec.Code == http.StatusAccepted && route%5 != 2 {
			var resp SubmitResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || bus.ValidateArticleID(resp.ID) != nil {
				t.Fatalf("accepted with id %q: %v", resp.ID, err)
			}
		}
	})
}
