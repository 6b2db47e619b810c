package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
	"github.com/newsroom/newsroom/pkg/problem"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/ingest/formats"
)

// MaxBodyBytes is the largest submission accepted; larger ones get 413.
const MaxBodyBytes = formats.MaxBodyBytes

// Handler serves the editor API under /v1/.
func (i *Ingest) Handler() http.Handler {
	svc := i.svc
	mux := http.NewServeMux()
	submit := kithttp.Endpoint[SubmitRequest, SubmitResponse](svc.Submit)
	status := kithttp.Endpoint[string, Status](svc.Status)

	kithttp.Handle(mux, "POST /v1/articles", kithttp.NewServer(submit, decodeSubmit(true), encodeAccepted, nil))
	kithttp.Handle(mux, "PUT /v1/articles/{id}", kithttp.NewServer(submit, decodeSubmit(false), encodeAccepted, nil))
	kithttp.Handle(mux, "GET /v1/articles/{id}", kithttp.NewServer(status, decodeID, encodeJSON[Status], nil))
	return kithttp.Traced(i.auth.Middleware(mux), Name, i.deps.Tracer, bus.Propagator)
}

func encodeAccepted(_ context.Context, w http.ResponseWriter, resp SubmitResponse) error {
	w.Header().Set("Location", resp.StatusURL)
	return kithttp.JSON(w, http.StatusAccepted, resp)
}

func encodeJSON[T any](_ context.Context, w http.ResponseWriter, v T) error {
	return kithttp.JSON(w, http.StatusOK, v)
}

func decodeID(_ context.Context, r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := bus.ValidateArticleID(id); err != nil {
		return "", badRequest("Invalid article id", problem.FieldError{Field: "id", Detail: err.Error()})
	}
	return id, nil
}

func badRequest(title string, errs ...problem.FieldError) *problem.Details {
	detail := "Fix the fields listed in errors and submit again."
	return problem.New(http.StatusBadRequest, "invalid", title, detail, errs...)
}

func decodeSubmit(create bool) kithttp.DecodeFunc[SubmitRequest] {
	return func(ctx context.Context, r *http.Request) (SubmitRequest, error) {
		req := SubmitRequest{Create: create, Editor: apiauth.EditorFrom(ctx)}
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, problem.New(http.StatusRequestEntityTooLarge, "too-large", "Submission too large",
				fmt.Sprintf("Submissions are limited to %d bytes.", MaxBodyBytes))
		}
		if err != nil {
			return req, badRequest("Unreadable body", problem.FieldError{Field: "body", Detail: err.Error()})
		}
		if !utf8.Valid(body) {
			return req, badRequest("Invalid text", problem.FieldError{Field: "body", Detail: "the body is not valid UTF-8"})
		}
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil && r.Header.Get("Content-Type") != "" {
			return req, unsupported(r.Header.Get("Content-Type"))
		}
		var a *newsroomv1.Article
		var errs []problem.FieldError
		switch ct {
		case "application/json", "":
			a, errs = formats.JSON(body)
		case "text/plain":
			a, errs = formats.Text(body)
		default:
			return req, unsupported(ct)
		}
		if !create {
			id := r.PathValue("id")
			if err := bus.ValidateArticleID(id); err != nil {
				errs = append(errs, problem.FieldError{Field: "id", Detail: err.Error()})
			} else if a != nil && a.Id != "" && a.Id != id {
				errs = append(errs, problem.FieldError{Field: "/id", Detail: fmt.Sprintf("body id %q differs from the URL's %q", a.Id, id)})
			} else if a != nil {
				a.Id = id
			}
		}
		if len(errs) > 0 {
			return req, badRequest("Invalid article", errs...)
		}
		req.Article = a
		return req, nil
	}
}

func unsupported(ct string) *problem.Details {
	return problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
		fmt.Sprintf("%q is not accepted; send application/json or text/plain.", ct),
		problem.FieldError{Field: "Content-Type", Detail: "unsupported"})
}
