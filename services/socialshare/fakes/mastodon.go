package fakes

import (
	"encoding/json"
	"html"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/rivo/uniseg"

	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// MastodonStatus is a status the fake holds.
type MastodonStatus struct {
	ID          string `json:"id"`
	URI         string `json:"uri"`
	URL         string `json:"url"`
	Content     string `json:"content"`
	Text        string `json:"-"`
	InReplyToID string `json:"in_reply_to_id"`
	Visibility  string `json:"visibility"`
	Language    string `json:"language"`
	CreatedAt   string `json:"created_at"`
	Deleted     bool   `json:"-"`
}

// Mastodon fakes a Mastodon instance: POST /api/v1/statuses (JSON or form,
// Idempotency-Key honoured per account, 422 past max_characters counted
// Mastodon's way), DELETE /api/v1/statuses/:id, GET /api/v2/instance,
// X-RateLimit-* headers and 429 when the window is spent.
type Mastodon struct {
	*httptest.Server
	Faults
	Token         string
	MaxCharacters int
	// RateLimit is the fake's window.
	RateLimit *window

	mu       sync.Mutex
	statuses []*MastodonStatus
	byID     map[string]*MastodonStatus
	idem     map[string]string
	ids      counter
}

// NewMastodon starts a fake instance accepting token.
func NewMastodon(token string) *Mastodon {
	m := &Mastodon{Token: token, MaxCharacters: 500, RateLimit: newWindow(300, 5*time.Minute),
		byID: map[string]*MastodonStatus{}, idem: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/statuses", m.post)
	mux.HandleFunc("DELETE /api/v1/statuses/{id}", m.delete)
	mux.HandleFunc("GET /api/v2/instance", m.instance)
	m.Server = httptest.NewServer(m.limited(mux))
	return m
}

func mastodonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (m *Mastodon) errBody(w http.ResponseWriter, status int) {
	mastodonError(w, status, http.StatusText(status))
}

func (m *Mastodon) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer(r) != m.Token {
			mastodonError(w, http.StatusUnauthorized, "The access token is invalid")
			return
		}
		remaining, reset, ok := m.RateLimit.take()
		w.Header().Set("X-RateLimit-Limit", itoa(m.RateLimit.limit))
		w.Header().Set("X-RateLimit-Remaining", itoa(remaining))
		w.Header().Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04:05.000Z"))
		if !ok {
			mastodonError(w, http.StatusTooManyRequests, "Too many requests")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Count is the length Mastodon gives text: grapheme clusters, every URL
// counting 23.
func (m *Mastodon) Count(text string) int {
	n, last := 0, 0
	for _, u := range twittertext.ExtractURLs(text, false) {
		n += uniseg.GraphemeClusterCount(text[last:u.Start]) + 23
		last = u.End
	}
	return n + uniseg.GraphemeClusterCount(text[last:])
}

func (m *Mastodon) post(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status      string `json:"status"`
		Visibility  string `json:"visibility"`
		Language    string `json:"language"`
		InReplyToID string `json:"in_reply_to_id"`
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			mastodonError(w, http.StatusBadRequest, "Invalid JSON")
			return
		}
	} else {
		_ = r.ParseForm()
		in.Status, in.Visibility, in.Language, in.InReplyToID = r.Form.Get("status"), r.Form.Get("visibility"), r.Form.Get("language"), r.Form.Get("in_reply_to_id")
	}
	key := r.Header.Get("Idempotency-Key")
	m.serve(w, r, "POST /api/v1/statuses", m.errBody, func() (int, any) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if key != "" {
			if id, ok := m.idem[key]; ok {
				return http.StatusOK, m.byID[id]
			}
		}
		if in.Status == "" {
			return http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: Text can't be blank"}
		}
		if n := m.Count(in.Status); n > m.MaxCharacters {
			return http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: Text character limit of " + itoa(m.MaxCharacters) + " exceeded"}
		}
		if in.InReplyToID != "" {
			if p, ok := m.byID[in.InReplyToID]; !ok || p.Deleted {
				return http.StatusNotFound, map[string]string{"error": "Record not found"}
			}
		}
		id := m.ids.next(110000000000000000)
		st := &MastodonStatus{ID: id, URI: m.URL + "/users/newsroom/statuses/" + id, URL: m.URL + "/@newsroom/" + id,
			Content: "<p>" + html.EscapeString(in.Status) + "</p>", Text: in.Status, InReplyToID: in.InReplyToID,
			Visibility: in.Visibility, Language: in.Language, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
		m.statuses = append(m.statuses, st)
		m.byID[id] = st
		if key != "" {
			m.idem[key] = id
		}
		return http.StatusOK, st
	})
}

func (m *Mastodon) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m.serve(w, r, "DELETE /api/v1/statuses/:id", m.errBody, func() (int, any) {
		m.mu.Lock()
		defer m.mu.Unlock()
		st, ok := m.byID[id]
		if !ok || st.Deleted {
			return http.StatusNotFound, map[string]string{"error": "Record not found"}
		}
		st.Deleted = true
		return http.StatusOK, map[string]any{"id": st.ID, "text": st.Text}
	})
}

func (m *Mastodon) instance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"domain": r.Host, "version": "4.3.0",
		"configuration": map[string]any{"statuses": map[string]int{
			"max_characters": m.MaxCharacters, "max_media_attachments": 4, "characters_reserved_per_url": 23}},
	})
}

// Statuses returns every status ever made, deleted ones included.
func (m *Mastodon) Statuses() []MastodonStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MastodonStatus, len(m.statuses))
	for i, s := range m.statuses {
		out[i] = *s
	}
	return out
}
