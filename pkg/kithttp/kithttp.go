// Package kithttp keeps go-kit's service / endpoint / transport layering for
// HTTP without interface{} casts in every handler: typed endpoints, decoders
// and encoders are adapted to go-kit's httptransport.Server here, once.
// Errors are written as RFC 9457 problem details.
package kithttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/newsroom/newsroom/pkg/problem"
)

// Endpoint is a typed go-kit endpoint.
type Endpoint[Req, Resp any] func(ctx context.Context, req Req) (Resp, error)

// Untyped adapts e to go-kit's endpoint.Endpoint, so go-kit middlewares
// (logging, instrumenting, rate limiting) wrap it unchanged.
func (e Endpoint[Req, Resp]) Untyped() endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		r, ok := req.(Req)
		if !ok {
			return nil, fmt.Errorf("kithttp: request is %T, want %T", req, r)
		}
		return e(ctx, r)
	}
}

// DecodeFunc reads a typed request.
type DecodeFunc[Req any] func(ctx context.Context, r *http.Request) (Req, error)

// EncodeFunc writes a typed response.
type EncodeFunc[Resp any] func(ctx context.Context, w http.ResponseWriter, resp Resp) error

// NewServer is go-kit's httptransport.NewServer with typed parts and a
// problem+json error encoder. mw wraps the endpoint (go-kit middlewares).
func NewServer[Req, Resp any](e Endpoint[Req, Resp], dec DecodeFunc[Req], enc EncodeFunc[Resp], mw []endpoint.Middleware, opts ...httptransport.ServerOption) *httptransport.Server {
	ep := e.Untyped()
	for i := len(mw) - 1; i >= 0; i-- {
		ep = mw[i](ep)
	}
	opts = append([]httptransport.ServerOption{
		httptransport.ServerErrorEncoder(ErrorEncoder),
		httptransport.ServerBefore(KeepRequest),
	}, opts...)
	return httptransport.NewServer(ep,
		func(ctx context.Context, r *http.Request) (any, error) { return dec(ctx, r) },
		func(ctx context.Context, w http.ResponseWriter, resp any) error {
			r, ok := resp.(Resp)
			if !ok {
				return fmt.Errorf("kithttp: response is %T", resp)
			}
			return enc(ctx, w, r)
		},
		opts...)
}

// ErrorEncoder writes err as problem details: a *problem.Details as it is,
// anything else as a 500 that hides the internal message.
func ErrorEncoder(ctx context.Context, err error, w http.ResponseWriter) {
	var d *problem.Details
	if !errors.As(err, &d) {
		d = problem.New(http.StatusInternalServerError, "internal", "Internal error",
			"The request could not be completed; it is safe to retry.")
	}
	problem.Write(w, requestFrom(ctx), d)
}

type requestKey struct{}

// KeepRequest is a ServerBefore that lets ErrorEncoder fill "instance".
func KeepRequest(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
