package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP wraps h, one route of service's API (route is its pattern, such as
// "POST /v1/articles"), to count its answers by status code under
// APIRequestsTotal and time them under APIRequestSeconds: every answer,
// the refusals of authentication, rate limits and validation included.
// Each series is looked up once. Safe on a nil Set, which returns h.
func (s *Set) HTTP(service, route string, h http.Handler) http.Handler {
	if s == nil {
		return h
	}
	seconds := s.apiSeconds.WithLabelValues(service, route)
	var counts [1000]atomic.Pointer[prometheus.Counter] // by status code
	counter := func(code int) prometheus.Counter {
		if code < 100 || code >= len(counts) {
			return s.apiRequests.WithLabelValues(service, route, strconv.Itoa(code))
		}
		if c := counts[code].Load(); c != nil {
			return *c
		}
		c := s.apiRequests.WithLabelValues(service, route, strconv.Itoa(code))
		counts[code].Store(&c)
		return c
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		defer func() {
			// A handler that wrote nothing answered 200; one that
			// panicked, the 500 the server answers (or a dropped
			// connection), counted as 500.
			code := sw.code
			switch {
			case !returned:
				code = http.StatusInternalServerError
			case code == 0:
				code = http.StatusOK
			}
			counter(code).Inc()
			seconds.Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
		returned = true
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
