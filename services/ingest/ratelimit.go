package ingest

import (
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/problem"
)

// tokenLimiter gives each API token its own token bucket. Only
// authenticated tokens reach it, so it holds at most one limiter per
// configured token.
type tokenLimiter struct {
	every rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

func newTokenLimiter(perSecond float64, burst int) *tokenLimiter {
	if perSecond < 0 {
		return nil
	}
	return &tokenLimiter{every: rate.Limit(perSecond), burst: burst, by: map[string]*rate.Limiter{}}
}

// wait is zero when the token may go ahead now, else how long until it may.
func (l *tokenLimiter) wait(key string, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	lim, ok := l.by[key]
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.by[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Minute
	}
	d := r.DelayFrom(now)
	if d > 0 {
		// Not taken: a refused request must not use up the next slot.
		r.CancelAt(now)
	}
	return d
}

// middleware answers 429 with Retry-After to a token over its rate.
func (l *tokenLimiter) middleware(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := apiauth.PrincipalFrom(r.Context())
		if d := l.wait(p.Key, time.Now()); d > 0 {
			pd := problem.New(http.StatusTooManyRequests, "rate-limited", "Too many requests",
				"This token sent more requests than its rate allows; retry after the time in Retry-After.")
			pd.RetryAfter = int(math.Ceil(d.Seconds()))
			problem.Write(w, r, pd)
			return
		}
		next.ServeHTTP(w, r)
	})
}
