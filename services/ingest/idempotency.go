package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/problem"
)

// HeaderIdempotencyKey makes a write safe to retry: the same key with the
// same request answers the first response again, the same key with another
// request is refused with 409. Keys are per token.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderReplayed marks a response replayed for an Idempotency-Key.
const HeaderReplayed = "Idempotent-Replayed"

// idemRecord is what the idempotency bucket holds per key: first a claim
// while the request runs, then its response.
type idemRecord struct {
	Fingerprint string      `json:"fingerprint"`
	Done        bool        `json:"done"`
	StartedAt   time.Time   `json:"started_at"`
	Status      int         `json:"status,omitempty"`
	Header      http.Header `json:"header,omitempty"`
	Body        []byte      `json:"body,omitempty"`
}

// staleClaim is when a claim whose request never finished (its instance
// died) may be taken over.
const staleClaim = 2 * time.Minute

// validKey accepts 1 to 255 visible ASCII characters.
func validKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent wraps a write handler. The first request with a key claims it
// with an atomic create in the bucket; concurrent retries wait for its
// response and replay it, so one key never makes two articles.
func (s *service) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(HeaderIdempotencyKey)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !validKey(key) {
			problem.Write(w, r, badRequest("Invalid Idempotency-Key",
				problem.FieldError{Field: HeaderIdempotencyKey, Detail: "must be 1 to 255 visible ASCII characters"}))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxBodyBytes)+1))
		if err != nil {
			problem.Write(w, r, badRequest("Unreadable body", problem.FieldError{Field: "body", Detail: err.Error()}))
			return
		}
		if len(body) > s.cfg.MaxBodyBytes {
			problem.Write(w, r, tooLarge(s.cfg.MaxBodyBytes))
			return
		}
		p, _ := apiauth.PrincipalFrom(r.Context())
		storeKey := digest(p.Key, key)
		fp := digest(r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("If-Match"), string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))

		deadline := time.Now().Add(s.cfg.IdempotencyWait)
		for {
			rec, rev, err := s.claimKey(r.Context(), storeKey, fp)
			switch {
			case err != nil:
				problem.Write(w, r, asProblem(unavailable(err)))
				return
			case rec == nil:
				s.runClaimed(w, r, next, storeKey, fp, rev)
				return
			case rec.Fingerprint != fp:
				problem.Write(w, r, problem.New(http.StatusConflict, "idempotency-key-reused", "Idempotency-Key reused",
					"This Idempotency-Key was used for a different request; use a new key for a new request.",
					problem.FieldError{Field: HeaderIdempotencyKey, Detail: "already used with another request"}))
				return
			case rec.Done:
				replay(w, rec)
				return
			}
			// Another request with this key is running: wait for it.
			if !time.Now().Before(deadline) {
				d := problem.New(http.StatusConflict, "idempotency-key-in-progress", "Request in progress",
					"A request with this Idempotency-Key is still being processed; retry after the time in Retry-After.")
				d.RetryAfter = 1
				problem.Write(w, r, d)
				return
			}
			if err := s.awaitKey(r.Context(), storeKey, rev, deadline); err != nil {
				problem.Write(w, r, asProblem(unavailable(err)))
				return
			}
		}
	})
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// claimKey creates the key's claim. It returns (nil, revision of the claim)
// when this request owns the key, or the record another request left.
func (s *service) claimKey(ctx context.Context, key, fp string) (*idemRecord, uint64, error) {
	claim, _ := json.Marshal(idemRecord{Fingerprint: fp, StartedAt: time.Now()})
	rev, err := s.idempotency.Create(ctx, key, claim)
	if err == nil {
		return nil, rev, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, 0, err
	}
	e, err := s.idempotency.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return s.claimKey(ctx, key, fp) // released between our create and get
	}
	if err != nil {
		return nil, 0, err
	}
	var rec idemRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, 0, fmt.Errorf("idempotency record: %w", err)
	}
	if !rec.Done && rec.Fingerprint == fp && time.Since(rec.StartedAt) > staleClaim {
		// Its request died with its instance: take the claim over.
		if rev, err := s.idempotency.Update(ctx, key, claim, e.Revision()); err == nil {
			return nil, rev, nil
		}
	}
	return &rec, e.Revision(), nil
}

// awaitKey waits until the key's record changes from revision rev, or the
// deadline.
func (s *service) awaitKey(ctx context.Context, key string, rev uint64, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	w, err := s.idempotency.Watch(ctx, key, jetstream.IncludeHistory())
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case e := <-w.Updates():
			if e != nil && (e.Revision() != rev || e.Operation() != jetstream.KeyValuePut) {
				return nil
			}
		case <-ctx.Done():
			return nil // the caller checks its deadline
		}
	}
}

// runClaimed runs the request that owns the key and stores its response.
// Responses that a retry could change (5xx, 429) release the key instead.
func (s *service) runClaimed(w http.ResponseWriter, r *http.Request, next http.Handler, key, fp string, rev uint64) {
	rec := &recorder{header: http.Header{}}
	func() {
		defer func() {
			if v := recover(); v != nil {
				rec.status, rec.body = http.StatusInternalServerError, bytes.Buffer{}
				s.log.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(v))
				problem.Write(rec, r, problem.New(http.StatusInternalServerError, "internal", "Internal error",
					"The request could not be completed; it is safe to retry."))
			}
		}()
		next.ServeHTTP(rec, r)
	}()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	// Store the outcome even if the client went away: a retry must find it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if rec.status >= 500 || rec.status == http.StatusTooManyRequests {
		if err := s.idempotency.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
			s.log.WarnContext(ctx, "idempotency claim not released; it goes stale", "err", err)
		}
	} else {
		done, _ := json.Marshal(idemRecord{Fingerprint: fp, Done: true, StartedAt: time.Now(), Status: rec.status,
			Header: keptHeaders(rec.header), Body: rec.body.Bytes()})
		if _, err := s.idempotency.Update(ctx, key, done, rev); err != nil {
			s.log.ErrorContext(ctx, "idempotent response not stored; a retry with this key will wait for the claim to go stale", "err", err)
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

func keptHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range []string{"Content-Type", "Location", "ETag", "X-Content-Type-Options"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func replay(w http.ResponseWriter, rec *idemRecord) {
	for k, v := range rec.Header {
		w.Header()[k] = v
	}
	w.Header().Set(HeaderReplayed, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// recorder captures a response so it can be stored before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func asProblem(err error) *problem.Details {
	var d *problem.Details
	if errors.As(err, &d) {
		return d
	}
	return problem.New(http.StatusInternalServerError, "internal", "Internal error", "")
}
