package ingest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-kit/kit/endpoint"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/services/ingest/formats"
)

// MaxBodyBytes is the largest submission accepted; larger ones get 413.
const MaxBodyBytes = formats.MaxBodyBytes

// OpenAPI is the API's OpenAPI 3.1 document, served at /v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// route is one operation of the API: the mux pattern, the scope it needs
// ("" for none), and whether it is a write that Idempotency-Key covers.
type route struct {
	pattern    string
	scope      string
	idempotent bool
	handler    http.Handler
}

// routes are the API's operations; the OpenAPI test checks them against
// the document both ways.
func (i *Ingest) routes() []route {
	svc := i.svc
	mw := func(method string) []endpoint.Middleware {
		return []endpoint.Middleware{logging(svc.log, method), instrumenting(svc.cfg.Metrics, method)}
	}
	var s Service = svc
	submit := kithttp.Endpoint[SubmitRequest, SubmitResponse](s.Submit)
	return []route{
		{"POST /v1/articles", apiauth.ScopeSubmit, true,
			kithttp.NewServer(submit, svc.decodeSubmit(true), encodeAccepted, mw("create"))},
		{"GET /v1/articles", apiauth.ScopeRead, false,
			kithttp.NewServer(kithttp.Endpoint[ListRequest, ListResponse](s.List), decodeList, encodeJSON[ListResponse], mw("list"))},
		{"PUT /v1/articles/{id}", apiauth.ScopeSubmit, true,
			kithttp.NewServer(submit, svc.decodeSubmit(false), encodeAccepted, mw("revise"))},
		{"GET /v1/articles/{id}", apiauth.ScopeRead, false,
			kithttp.NewServer(kithttp.Endpoint[string, Status](s.Status), decodeID, encodeStatus, mw("status"))},
		{"POST /v1/articles/{id}/retract", apiauth.ScopeRetract, true,
			kithttp.NewServer(kithttp.Endpoint[RetractRequest, RetractResponse](s.Retract), decodeRetract, encodeRetracted, mw("retract"))},
		{"GET /v1/openapi.json", "", false, http.HandlerFunc(serveOpenAPI)},
	}
}

// Handler serves the editor API under /v1/. Each request goes through:
// tracing, the route's metrics (every answer, by status), authentication
// (401), the token's rate limit (429), the route's scope (403),
// Idempotency-Key for writes, then go-kit's decode → endpoint (logging,
// instrumenting) → encode.
func (i *Ingest) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range i.routes() {
		h := rt.handler
		if rt.idempotent {
			h = i.svc.idempotent(h)
		}
		if rt.scope != "" {
			h = i.auth.Middleware(i.limiter.middleware(apiauth.Require(rt.scope, h)))
		}
		kithttp.Handle(mux, rt.pattern, i.deps.Metrics.HTTP(Name, rt.pattern, h))
	}
	return kithttp.Traced(problemRoutes(mux), Name, i.deps.Tracer, bus.Propagator)
}

// problemRoutes answers an unknown path (404) or method (405, with Allow)
// as a problem document, like every other error of the API.
func problemRoutes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch rec.status {
		case http.StatusMethodNotAllowed:
			problem.Write(w, r, problem.New(rec.status, "method-not-allowed", "Method not allowed",
				fmt.Sprintf("%s is not allowed here; allowed: %s.", r.Method, rec.header.Get("Allow"))))
		default:
			problem.Write(w, r, problem.New(http.StatusNotFound, "no-route", "No such endpoint",
				"See /v1/openapi.json for the API's endpoints."))
		}
	})
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(OpenAPI)
}

func encodeAccepted(_ context.Context, w http.ResponseWriter, resp SubmitResponse) error {
	w.Header().Set("Location", resp.StatusURL)
	w.Header().Set("ETag", `"`+strconv.FormatInt(resp.Revision, 10)+`"`)
	if resp.ReleaseAt != nil {
		return kithttp.JSON(w, http.StatusAccepted, resp)
	}
	// Every write answers this: written by hand, byte for byte what
	// encoding/json writes (TestAcceptedAsEncodingJSON).
	b := make([]byte, 0, 64+len(resp.ID)+len(resp.State)+len(resp.StatusURL)+len(resp.URL))
	b = append(b, `{"id":`...)
	b = appendJSONString(b, resp.ID)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, resp.Revision, 10)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, resp.State)
	b = append(b, `,"status_url":`...)
	b = appendJSONString(b, resp.StatusURL)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, resp.URL)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, err := w.Write(b)
	return err
}

// appendJSONString appends s as encoding/json writes a string: quoted,
// with <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, and U+2028
// and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func encodeRetracted(_ context.Context, w http.ResponseWriter, resp RetractResponse) error {
	w.Header().Set("Location", resp.StatusURL)
	return kithttp.JSON(w, http.StatusAccepted, resp)
}

func encodeStatus(_ context.Context, w http.ResponseWriter, st Status) error {
	w.Header().Set("ETag", st.ETag())
	return kithttp.JSON(w, http.StatusOK, st)
}

func encodeJSON[T any](_ context.Context, w http.ResponseWriter, v T) error {
	return kithttp.JSON(w, http.StatusOK, v)
}

func pathID(r *http.Request) (string, *problem.FieldError) {
	id := r.PathValue("id")
	if err := bus.ValidateArticleID(id); err != nil {
		return "", &problem.FieldError{Field: "id", Detail: err.Error()}
	}
	return id, nil
}

func decodeID(_ context.Context, r *http.Request) (string, error) {
	id, fe := pathID(r)
	if fe != nil {
		return "", badRequest("Invalid article id", *fe)
	}
	return id, nil
}

func badRequest(title string, errs ...problem.FieldError) *problem.Details {
	detail := "Fix the fields listed in errors and send the request again."
	return problem.New(http.StatusBadRequest, "invalid", title, detail, errs...)
}

func tooLarge(limit int) *problem.Details {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Submission too large",
		fmt.Sprintf("Submissions are limited to %d bytes.", limit),
		problem.FieldError{Field: "body", Detail: fmt.Sprintf("larger than %d bytes", limit)})
}

// readBody reads at most limit bytes, answering 413 above.
func readBody(r *http.Request, limit int) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(nil, r.Body, int64(limit)), r.ContentLength, limit)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, badRequest("Unreadable body", problem.FieldError{Field: "body", Detail: err.Error()})
	}
	return body, nil
}

// readAll is io.ReadAll into a buffer the size the request declares (up
// to limit), so a body is read without growing and copying its buffer.
func readAll(r io.Reader, declared int64, limit int) ([]byte, error) {
	if declared <= 0 || declared > int64(limit) {
		return io.ReadAll(r)
	}
	// ReadFrom wants MinRead bytes free before each read, EOF included.
	buf := bytes.NewBuffer(make([]byte, 0, declared+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// parseIfMatch reads If-Match: "3" (the revision the editor last saw).
func parseIfMatch(h string) (int64, *problem.FieldError) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, &problem.FieldError{Field: "If-Match", Detail: `must be a revision's ETag, e.g. "3"`}
	}
	return n, nil
}

func (s *service) decodeSubmit(create bool) kithttp.DecodeFunc[SubmitRequest] {
	return func(ctx context.Context, r *http.Request) (SubmitRequest, error) {
		req := SubmitRequest{Create: create, Editor: apiauth.EditorFrom(ctx)}
		decode, err := formats.ForContentType(r.Header.Get("Content-Type"))
		if err != nil {
			return req, problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
				err.Error(), problem.FieldError{Field: "Content-Type", Detail: "send one of " + strings.Join(formats.MediaTypes(), ", ")})
		}
		body, err := readBody(r, s.cfg.MaxBodyBytes)
		if err != nil {
			return req, err
		}
		a, errs := decode(body)
		if !create {
			id, fe := pathID(r)
			switch {
			case fe != nil:
				errs = append(errs, *fe)
			case a != nil && a.Id != "" && a.Id != id:
				errs = append(errs, problem.FieldError{Field: "/id", Detail: fmt.Sprintf("body id %q differs from the URL's %q", a.Id, id)})
			case a != nil:
				a.Id = id
			}
			var fe2 *problem.FieldError
			if req.IfMatch, fe2 = parseIfMatch(r.Header.Get("If-Match")); fe2 != nil {
				errs = append(errs, *fe2)
			}
		}
		if len(errs) > 0 || a == nil {
			return req, badRequest("Invalid article", errs...)
		}
		req.Article = a
		return req, nil
	}
}

// MaxReasonChars bounds a retraction's reason.
const MaxReasonChars = 2000

func decodeRetract(ctx context.Context, r *http.Request) (RetractRequest, error) {
	req := RetractRequest{Editor: apiauth.EditorFrom(ctx)}
	id, fe := pathID(r)
	var errs []problem.FieldError
	if fe != nil {
		errs = append(errs, *fe)
	}
	req.ID = id
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return req, problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
			`Send {"reason": "…"} as application/json.`, problem.FieldError{Field: "Content-Type", Detail: "must be application/json"})
	}
	body, err := readBody(r, 64<<10)
	if err != nil {
		return req, err
	}
	var in struct {
		Reason *string `json:"reason"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	switch err := dec.Decode(&in); {
	case errors.Is(err, io.EOF):
		errs = append(errs, problem.FieldError{Field: "/reason", Detail: "is required"})
	case err != nil:
		errs = append(errs, problem.FieldError{Field: "body", Detail: `must be {"reason": "…"}: ` + err.Error()})
	case in.Reason == nil || strings.TrimSpace(*in.Reason) == "":
		errs = append(errs, problem.FieldError{Field: "/reason", Detail: "is required: say why the article is taken down"})
	case len([]rune(*in.Reason)) > MaxReasonChars:
		errs = append(errs, problem.FieldError{Field: "/reason", Detail: fmt.Sprintf("is longer than %d characters", MaxReasonChars)})
	default:
		if r, bad := formats.BadControl(*in.Reason, true); bad {
			errs = append(errs, problem.FieldError{Field: "/reason", Detail: fmt.Sprintf("contains the control character %U", r)})
		}
		req.Reason = strings.TrimSpace(*in.Reason)
	}
	if len(errs) > 0 {
		return req, badRequest("Invalid retraction", errs...)
	}
	return req, nil
}

func decodeList(_ context.Context, r *http.Request) (ListRequest, error) {
	var req ListRequest
	var errs []problem.FieldError
	// The parameters that parse are checked even when others do not.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		errs = append(errs, problem.FieldError{Field: "query", Detail: err.Error()})
	}
	for name, values := range q {
		v := values[len(values)-1]
		switch name {
		case "state":
			for _, vs := range values {
				for _, st := range strings.Split(vs, ",") {
					if !slices.Contains(States, st) {
						errs = append(errs, problem.FieldError{Field: "state", Detail: fmt.Sprintf("%q is not one of %s", st, strings.Join(States, ", "))})
						continue
					}
					req.States = append(req.States, st)
				}
			}
		case "since", "until":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, problem.FieldError{Field: name, Detail: "must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z"})
			} else if name == "since" {
				req.Since = t
			} else {
				req.Until = t
			}
		case "problems":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, problem.FieldError{Field: "problems", Detail: "must be true or false"})
			}
			req.Problems = &b
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxListLimit {
				errs = append(errs, problem.FieldError{Field: "limit", Detail: fmt.Sprintf("must be a number from 1 to %d", MaxListLimit)})
			}
			req.Limit = n
		case "cursor":
			c, err := ParseCursor(v)
			if err != nil {
				errs = append(errs, problem.FieldError{Field: "cursor", Detail: err.Error()})
			}
			req.After = c
		default:
			errs = append(errs, problem.FieldError{Field: name, Detail: "is not a known parameter (state, problems, since, until, limit, cursor)"})
		}
	}
	slices.SortFunc(errs, func(a, b problem.FieldError) int { return strings.Compare(a.Field, b.Field) })
	if len(errs) > 0 {
		return req, badRequest("Invalid query", errs...)
	}
	return req, nil
}
