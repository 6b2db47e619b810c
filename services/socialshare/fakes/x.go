package fakes

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// Tweet is a post the X fake holds.
type Tweet struct {
	ID        string
	Text      string
	InReplyTo string
	URLs      []string // expanded URLs, as entities.urls report them
	Deleted   bool

	shown string // the text as the API shows it
}

// tco is the i-th t.co link of a tweet, as the API shows it.
func (t *Tweet) tco(i int) string {
	return "https://t.co/" + t.ID[len(t.ID)-9:] + strconv.Itoa(i%10)
}

// X fakes the X API v2: POST /2/tweets (OAuth 2.0 user bearer token,
// weighted length per twitter-text, 403 on duplicate content), DELETE
// /2/tweets/:id, GET /2/users/me, GET /2/users/:id/tweets, and
// x-rate-limit-* headers with 429 when the window is spent. X takes no
// idempotency key.
type X struct {
	*httptest.Server
	Faults
	Token     string
	RateLimit *window

	mu     sync.Mutex
	tweets []*Tweet
	byID   map[string]*Tweet
	ids    counter
}

// xEscaper is how X's API shows a tweet's text: &, < and > escaped.
var xEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// XUserID and XUsername are the fake account.
const (
	XUserID   = "1500000000000000001"
	XUsername = "newsroom"
)

// NewX starts a fake X API accepting token.
func NewX(token string) *X {
	x := &X{Token: token, RateLimit: newWindow(100, 15*time.Minute), byID: map[string]*Tweet{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2/tweets", x.post)
	mux.HandleFunc("DELETE /2/tweets/{id}", x.delete)
	mux.HandleFunc("GET /2/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": XUserID, "name": "Newsroom", "username": XUsername}})
	})
	mux.HandleFunc("GET /2/users/{id}/tweets", x.timeline)
	x.Server = httptest.NewServer(x.limited(mux))
	return x
}

func xProblem(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, map[string]any{"title": title, "detail": detail, "type": "about:blank", "status": status})
}

func (x *X) errBody(w http.ResponseWriter, status int) {
	xProblem(w, status, http.StatusText(status), http.StatusText(status))
}

func (x *X) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer(r) != x.Token {
			xProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		remaining, reset, ok := x.RateLimit.take()
		w.Header().Set("x-rate-limit-limit", itoa(x.RateLimit.limit))
		w.Header().Set("x-rate-limit-remaining", itoa(remaining))
		w.Header().Set("x-rate-limit-reset", epoch(reset))
		if !ok {
			xProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too Many Requests")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (x *X) post(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text  string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xProblem(w, http.StatusBadRequest, "Invalid Request", "Request body is not valid JSON")
		return
	}
	x.serve(w, r, "POST /2/tweets", x.errBody, func() (int, any) {
		x.mu.Lock()
		defer x.mu.Unlock()
		res := twittertext.Parse(in.Text, twittertext.V3)
		if !res.Valid {
			return http.StatusBadRequest, map[string]any{
				"errors": []map[string]any{{"message": "Text is too long or holds invalid characters (weighted length " + itoa(res.WeightedLength) + ")"}},
				"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
				"type": "https://api.twitter.com/2/problems/invalid-request"}
		}
		for _, t := range x.tweets {
			if !t.Deleted && t.Text == in.Text {
				return http.StatusForbidden, map[string]any{"title": "Forbidden", "type": "about:blank", "status": 403,
					"detail": "You are not allowed to create a Tweet with duplicate content."}
			}
		}
		t := &Tweet{ID: x.ids.next(1800000000000000000), Text: in.Text}
		if in.Reply != nil {
			p, ok := x.byID[in.Reply.InReplyToTweetID]
			if !ok || p.Deleted {
				return http.StatusBadRequest, map[string]any{"title": "Invalid Request", "type": "https://api.twitter.com/2/problems/invalid-request",
					"detail": "One or more parameters to your request was invalid.",
					"errors": []map[string]string{{"message": "The Tweet you are replying to has been deleted or is not visible to you."}}}
			}
			t.InReplyTo = p.ID
		}
		// What the API shows: each link shortened to a t.co one, and &,
		// < and > escaped.
		var shown strings.Builder
		last := 0
		for i, u := range twittertext.ExtractURLs(in.Text, true) {
			t.URLs = append(t.URLs, u.URL)
			shown.WriteString(in.Text[last:u.Start])
			shown.WriteString(t.tco(i))
			last = u.End
		}
		shown.WriteString(in.Text[last:])
		t.shown = xEscaper.Replace(shown.String())
		x.tweets = append(x.tweets, t)
		x.byID[t.ID] = t
		return http.StatusCreated, map[string]any{"data": map[string]any{"id": t.ID, "text": t.shown, "edit_history_tweet_ids": []string{t.ID}}}
	})
}

func (x *X) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	x.serve(w, r, "DELETE /2/tweets/:id", x.errBody, func() (int, any) {
		x.mu.Lock()
		defer x.mu.Unlock()
		t, ok := x.byID[id]
		if !ok || t.Deleted {
			return http.StatusNotFound, map[string]any{"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found",
				"detail": "Could not find tweet with id: [" + id + "]."}
		}
		t.Deleted = true
		return http.StatusOK, map[string]any{"data": map[string]bool{"deleted": true}}
	})
}

func (x *X) timeline(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != XUserID {
		xProblem(w, http.StatusNotFound, "Not Found Error", "Could not find user")
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("max_results"))
	if n < 5 || n > 100 {
		n = 10
	}
	x.serve(w, r, "GET /2/users/:id/tweets", x.errBody, func() (int, any) {
		x.mu.Lock()
		defer x.mu.Unlock()
		var data []map[string]any
		for i := len(x.tweets) - 1; i >= 0 && len(data) < n; i-- {
			t := x.tweets[i]
			if t.Deleted {
				continue
			}
			var urls []map[string]any
			for i, u := range t.URLs {
				urls = append(urls, map[string]any{"url": t.tco(i), "expanded_url": u, "display_url": u})
			}
			tw := map[string]any{"id": t.ID, "text": t.shown, "entities": map[string]any{"urls": urls}}
			// As X: referenced_tweets only when asked for, and only on a
			// tweet that references one.
			if t.InReplyTo != "" && strings.Contains(r.URL.Query().Get("tweet.fields"), "referenced_tweets") {
				tw["referenced_tweets"] = []map[string]string{{"type": "replied_to", "id": t.InReplyTo}}
			}
			data = append(data, tw)
		}
		return http.StatusOK, map[string]any{"data": data, "meta": map[string]int{"result_count": len(data)}}
	})
}

// Tweets returns every tweet ever made, deleted ones included.
func (x *X) Tweets() []Tweet {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]Tweet, len(x.tweets))
	for i, t := range x.tweets {
		out[i] = *t
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
