package ingest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/newsroom/newsroom/services/ingest/formats"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage
}

type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Scope       string `json:"x-newsroom-scope"`
	RequestBody *struct {
		Content map[string]struct {
			Examples map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"examples"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Examples map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"examples"`
		} `json:"content"`
	} `json:"responses"`
}

var methods = []string{"get", "put", "post", "delete", "patch"}

// openAPI parses the served document and compiles schemas at JSON Pointers
// into it (OpenAPI 3.1 schemas are JSON Schema 2020-12).
var openAPI = sync.OnceValues(func() (*openAPIState, error) {
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenAPI))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("https://newsroom.dev/openapi.json", inst); err != nil {
		return nil, err
	}
	return &openAPIState{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
})

type openAPIState struct {
	doc      openAPIDoc
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

func (s *openAPIState) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile("https://newsroom.dev/openapi.json#" + ptr)
	if err != nil {
		return nil, err
	}
	s.schemas[ptr] = sch
	return sch, nil
}

func (s *openAPIState) validate(ptr string, body []byte) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// templateFor finds the documented path a request path matches.
func (s *openAPIState) templateFor(path string) (string, bool) {
	for tmpl := range s.doc.Paths {
		re := "^" + regexp.MustCompile(`\\\{[a-z]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			return tmpl, true
		}
	}
	return "", false
}

// checkAgainstOpenAPI fails t if the response's status is not documented
// for the operation, or its body does not match the documented schema.
func checkAgainstOpenAPI(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	s, err := openAPI()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	tmpl, ok := s.templateFor(req.URL.Path)
	op, hasOp := s.doc.Paths[tmpl][strings.ToLower(req.Method)]
	if !ok || !hasOp {
		// An unknown route or method: a problem document all the same.
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: undocumented route answered %d", req.Method, req.URL.Path, rec.Code)
		}
		if err := s.validate(pointer("components", "schemas", "Problem"), rec.Body.Bytes()); err != nil || mt != "application/problem+json" {
			t.Errorf("%s %s: %d is not a problem document (%s): %v", req.Method, req.URL.Path, rec.Code, mt, err)
		}
		return
	}
	var o openAPIOperation
	_ = json.Unmarshal(op, &o)
	code := strconv.Itoa(rec.Code)
	resp, ok := o.Responses[code]
	if !ok {
		t.Errorf("%s %s answered %d, which openapi.json does not document: %s", req.Method, tmpl, rec.Code, rec.Body)
		return
	}
	if _, ok := resp.Content[mt]; !ok {
		t.Errorf("%s %s %d: content type %q not documented", req.Method, tmpl, rec.Code, mt)
		return
	}
	ptr := pointer("paths", tmpl, strings.ToLower(req.Method), "responses", code, "content", mt, "schema")
	if err := s.validate(ptr, rec.Body.Bytes()); err != nil {
		t.Errorf("%s %s %d: body does not match openapi.json: %v\n%s", req.Method, tmpl, rec.Code, err, rec.Body)
	}
}

// TestOpenAPIMatchesRoutes: every route of the mux is documented, with its
// scope, and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	if s.doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", s.doc.OpenAPI)
	}
	ing := &Ingest{svc: &service{cfg: Config{Metrics: DiscardMetrics()}}}
	served := map[string]string{}
	for _, rt := range ing.routes() {
		served[strings.ToLower(rt.pattern)] = rt.scope
	}
	documented := map[string]string{}
	for path, item := range s.doc.Paths {
		for _, m := range methods {
			if raw, ok := item[m]; ok {
				var o openAPIOperation
				if err := json.Unmarshal(raw, &o); err != nil {
					t.Fatal(err)
				}
				documented[m+" "+strings.ToLower(path)] = o.Scope
			}
		}
	}
	var missing, extra []string
	for k, scope := range served {
		docScope, ok := documented[k]
		if !ok {
			missing = append(missing, k)
		} else if docScope != scope {
			t.Errorf("%s: scope %q served, %q documented", k, scope, docScope)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes not documented: %v; documented but not served: %v", missing, extra)
	}
}

// TestOpenAPIExamples: every example validates against its schema, and
// every request example is accepted by the decoder of its media type.
func TestOpenAPIExamples(t *testing.T) {
	s, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range s.doc.Paths {
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var o openAPIOperation
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			if o.RequestBody != nil {
				for mt, c := range o.RequestBody.Content {
					for name, ex := range c.Examples {
						n++
						ptr := pointer("paths", path, m, "requestBody", "content", mt, "schema")
						if err := s.validate(ptr, ex.Value); err != nil {
							t.Errorf("%s %s %s example %s: %v", m, path, mt, name, err)
						}
						if path == "/v1/articles" {
							body := []byte(ex.Value)
							if strings.HasPrefix(mt, "text/") {
								var text string
								_ = json.Unmarshal(ex.Value, &text)
								body = []byte(text)
							}
							d, err := formats.ForContentType(mt)
							if err != nil {
								t.Errorf("%s: documented but not accepted: %v", mt, err)
								continue
							}
							if _, errs := d(body); len(errs) > 0 {
								t.Errorf("%s example %s refused: %+v", mt, name, errs)
							}
						}
					}
				}
			}
			for code, resp := range o.Responses {
				for mt, c := range resp.Content {
					for name, ex := range c.Examples {
						n++
						ptr := pointer("paths", path, m, "responses", code, "content", mt, "schema")
						if err := s.validate(ptr, ex.Value); err != nil {
							t.Errorf("%s %s %s %s example %s: %v", m, path, code, mt, name, err)
						}
					}
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d examples checked", n)
	}
	// The schema must be able to fail: an article without a headline.
	if err := s.validate(pointer("components", "schemas", "Article"), []byte(`{"body": "x"}`)); err == nil {
		t.Fatal("the Article schema accepts an article without a headline")
	}
}
