package fakes

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/newsroom/newsroom/services/socialshare/twittertext"
)

// MetaPost is a Facebook Page post, comment or Threads post.
type MetaPost struct {
	ID, Message, Link, ParentID string
	Deleted                     bool
}

// Meta fakes the Graph APIs of Facebook Pages (POST /{page-id}/feed with
// message and link, POST and GET /{post-id}/comments, GET /{page-id}/feed, DELETE
// /{post-id}) and Threads (POST /{user-id}/threads making a container,
// POST /{user-id}/threads_publish, GET /{media-id}?fields=permalink, GET
// /{user-id}/threads and /{user-id}/replies, DELETE /{media-id}; 500 characters, 5 links), with
// Graph error bodies. One server plays one of the two.
type Meta struct {
	*httptest.Server
	Faults
	Token, OwnerID string

	mu         sync.Mutex
	posts      []*MetaPost
	byID       map[string]*MetaPost
	containers map[string]*MetaPost
	ids        counter
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}})
}

func (m *Meta) errBody(w http.ResponseWriter, status int) {
	code := 2
	if status == http.StatusTooManyRequests {
		code = 4
	}
	graphError(w, status, code, http.StatusText(status))
}

func (m *Meta) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" {
			tok = r.URL.Query().Get("access_token")
		}
		if tok != m.Token {
			graphError(w, http.StatusBadRequest, 190, "Invalid OAuth access token - Cannot parse access token")
			return
		}
		_ = r.ParseForm()
		next(w, r)
	}
}

func newMeta(token, owner string) *Meta {
	return &Meta{Token: token, OwnerID: owner, byID: map[string]*MetaPost{}, containers: map[string]*MetaPost{}}
}

// NewFacebook starts a fake Graph API for one Page.
func NewFacebook(token, pageID string) *Meta {
	m := newMeta(token, pageID)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{id}/feed", m.authed(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != m.OwnerID {
			graphError(w, http.StatusBadRequest, 100, "Unsupported post request.")
			return
		}
		msg, link := r.PostForm.Get("message"), r.PostForm.Get("link")
		if msg == "" && link == "" {
			graphError(w, http.StatusBadRequest, 100, "(#100) Missing message or attachment")
			return
		}
		if utf8.RuneCountInString(msg) > 63206 {
			graphError(w, http.StatusBadRequest, 100, "(#100) Message is too long")
			return
		}
		m.serve(w, r, "POST /{page-id}/feed", m.errBody, func() (int, any) {
			p := m.add(&MetaPost{ID: m.OwnerID + "_" + m.ids.next(100000000000000), Message: msg, Link: link})
			return http.StatusOK, map[string]string{"id": p.ID}
		})
	}))
	mux.HandleFunc("POST /{id}/comments", m.authed(func(w http.ResponseWriter, r *http.Request) {
		parent := r.PathValue("id")
		m.serve(w, r, "POST /{post-id}/comments", m.errBody, func() (int, any) {
			if !m.live(parent) {
				return http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "Unsupported post request. Object with ID '" + parent + "' does not exist", "type": "GraphMethodException", "code": 100}}
			}
			p := m.add(&MetaPost{ID: parent + "_" + m.ids.next(0), Message: r.PostForm.Get("message"), ParentID: parent})
			return http.StatusOK, map[string]string{"id": p.ID}
		})
	}))
	mux.HandleFunc("GET /{id}/comments", m.authed(func(w http.ResponseWriter, r *http.Request) {
		parent := r.PathValue("id")
		m.serve(w, r, "GET /{post-id}/comments", m.errBody, func() (int, any) {
			if !m.live(parent) {
				return http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "Unsupported get request. Object with ID '" + parent + "' does not exist", "type": "GraphMethodException", "code": 100}}
			}
			data := []map[string]string{}
			for _, p := range m.Posts() {
				if !p.Deleted && p.ParentID == parent {
					data = append(data, map[string]string{"id": p.ID, "message": p.Message})
				}
			}
			return http.StatusOK, map[string]any{"data": data}
		})
	}))
	mux.HandleFunc("GET /{id}/feed", m.authed(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, "GET /{page-id}/feed", m.errBody, func() (int, any) {
			var data []map[string]string
			for _, p := range m.Posts() {
				if !p.Deleted && p.ParentID == "" {
					data = append(data, map[string]string{"id": p.ID, "message": p.Message, "link": p.Link, "permalink_url": "https://www.facebook.com/" + p.ID})
				}
			}
			return http.StatusOK, map[string]any{"data": data}
		})
	}))
	mux.HandleFunc("DELETE /{id}", m.authed(m.delete("DELETE /{post-id}")))
	m.Server = httptest.NewServer(mux)
	return m
}

// NewThreads starts a fake Threads API for one user.
func NewThreads(token, userID string) *Meta {
	m := newMeta(token, userID)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{id}/threads", m.authed(func(w http.ResponseWriter, r *http.Request) {
		text := r.PostForm.Get("text")
		switch {
		case r.PathValue("id") != m.OwnerID:
			graphError(w, http.StatusBadRequest, 100, "Unsupported post request.")
			return
		case r.PostForm.Get("media_type") != "TEXT":
			graphError(w, http.StatusBadRequest, 100, "The parameter media_type is required.")
			return
		case utf8.RuneCountInString(text) > 500:
			graphError(w, http.StatusBadRequest, 100, "Param text must be at most 500 characters long.")
			return
		case len(twittertext.ExtractURLs(text, true)) > 5:
			graphError(w, http.StatusBadRequest, 100, "The post has more than 5 links.")
			return
		}
		reply := r.PostForm.Get("reply_to_id")
		if reply != "" && !m.live(reply) {
			graphError(w, http.StatusBadRequest, 100, "The reply_to_id is not a valid post.")
			return
		}
		m.serve(w, r, "POST /{user-id}/threads", m.errBody, func() (int, any) {
			id := m.ids.next(17900000000000000)
			m.mu.Lock()
			m.containers[id] = &MetaPost{Message: text, Link: r.PostForm.Get("link_attachment"), ParentID: reply}
			m.mu.Unlock()
			return http.StatusOK, map[string]string{"id": id}
		})
	}))
	mux.HandleFunc("POST /{id}/threads_publish", m.authed(func(w http.ResponseWriter, r *http.Request) {
		creation := r.PostForm.Get("creation_id")
		m.serve(w, r, "POST /{user-id}/threads_publish", m.errBody, func() (int, any) {
			m.mu.Lock()
			c, ok := m.containers[creation]
			if ok {
				delete(m.containers, creation)
			}
			m.mu.Unlock()
			if !ok {
				return http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "The media container was not found or was already published", "type": "OAuthException", "code": 24}}
			}
			c.ID = m.ids.next(18000000000000000)
			m.add(c)
			return http.StatusOK, map[string]string{"id": c.ID}
		})
	}))
	// As Threads: a user's threads are the posts that start one, and
	// their replies are listed apart, with replied_to when asked for; both
	// newest first.
	list := func(op string, replies bool) http.HandlerFunc {
		return m.authed(func(w http.ResponseWriter, r *http.Request) {
			m.serve(w, r, op, m.errBody, func() (int, any) {
				posts := m.Posts()
				var data []map[string]any
				for i := len(posts) - 1; i >= 0; i-- {
					p := posts[i]
					if p.Deleted || (p.ParentID != "") != replies {
						continue
					}
					item := map[string]any{"id": p.ID, "text": p.Message, "permalink": "https://www.threads.net/@newsroom/post/" + p.ID}
					if replies && strings.Contains(r.URL.Query().Get("fields"), "replied_to") {
						item["replied_to"] = map[string]string{"id": p.ParentID}
					}
					data = append(data, item)
				}
				return http.StatusOK, map[string]any{"data": data}
			})
		})
	}
	mux.HandleFunc("GET /{id}/threads", list("GET /{user-id}/threads", false))
	mux.HandleFunc("GET /{id}/replies", list("GET /{user-id}/replies", true))
	mux.HandleFunc("GET /{id}", m.authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !m.live(id) {
			graphError(w, http.StatusBadRequest, 100, "Object does not exist")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "permalink": "https://www.threads.net/@newsroom/post/" + id})
	}))
	mux.HandleFunc("DELETE /{id}", m.authed(m.delete("DELETE /{media-id}")))
	m.Server = httptest.NewServer(mux)
	return m
}

func (m *Meta) add(p *MetaPost) *MetaPost {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.posts = append(m.posts, p)
	m.byID[p.ID] = p
	return p
}

func (m *Meta) live(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.byID[id]
	return ok && !p.Deleted
}

func (m *Meta) delete(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		m.serve(w, r, op, m.errBody, func() (int, any) {
			m.mu.Lock()
			defer m.mu.Unlock()
			p, ok := m.byID[id]
			if !ok || p.Deleted {
				return http.StatusNotFound, map[string]any{"error": map[string]any{"message": "(#100) Object does not exist", "type": "GraphMethodException", "code": 100}}
			}
			p.Deleted = true
			return http.StatusOK, map[string]bool{"success": true}
		})
	}
}

// Posts returns every post ever published, deleted ones included.
func (m *Meta) Posts() []MetaPost {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MetaPost, len(m.posts))
	for i, p := range m.posts {
		out[i] = *p
	}
	return out
}

// LinkedInPost is a post the LinkedIn fake holds.
type LinkedInPost struct {
	URN, Author, Commentary, Source string
	Deleted                         bool
}

// LinkedIn fakes the Posts API: POST /rest/posts (bearer token,
// LinkedIn-Version and X-Restli-Protocol-Version required, commentary of at
// most 3,000 characters in valid little text format, x-restli-id in the
// answer), GET /rest/posts?q=author, DELETE /rest/posts/{urn}.
type LinkedIn struct {
	*httptest.Server
	Faults
	Token, Author string

	mu    sync.Mutex
	posts []*LinkedInPost
	ids   counter
}

func linkedinError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "message": msg})
}

// NewLinkedIn starts a fake Posts API for one author URN.
func NewLinkedIn(token, author string) *LinkedIn {
	l := &LinkedIn{Token: token, Author: author}
	errBody := func(w http.ResponseWriter, status int) { linkedinError(w, status, http.StatusText(status)) }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rest/posts", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Author     string `json:"author"`
			Commentary string `json:"commentary"`
			Content    struct {
				Article struct {
					Source string `json:"source"`
				} `json:"article"`
			} `json:"content"`
			LifecycleState string `json:"lifecycleState"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			linkedinError(w, http.StatusBadRequest, "Unable to parse the request body")
			return
		}
		switch {
		case in.Author != l.Author:
			linkedinError(w, http.StatusForbidden, "Not enough permissions to post as "+in.Author)
			return
		case utf8.RuneCountInString(in.Commentary) > 3000:
			linkedinError(w, http.StatusUnprocessableEntity, "/commentary: length exceeds 3000")
			return
		case !validLittle(in.Commentary):
			linkedinError(w, http.StatusUnprocessableEntity, "/commentary: unescaped reserved character in little text format")
			return
		}
		l.serve(w, r, "POST /rest/posts", errBody, func() (int, any) {
			l.mu.Lock()
			defer l.mu.Unlock()
			p := &LinkedInPost{URN: "urn:li:share:" + l.ids.next(7100000000000000000), Author: in.Author, Commentary: in.Commentary, Source: in.Content.Article.Source}
			l.posts = append(l.posts, p)
			w.Header().Set("x-restli-id", p.URN)
			return http.StatusCreated, nil
		})
	})
	mux.HandleFunc("GET /rest/posts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") != "author" || r.URL.Query().Get("author") != l.Author {
			linkedinError(w, http.StatusBadRequest, "Invalid finder")
			return
		}
		l.serve(w, r, "GET /rest/posts", errBody, func() (int, any) {
			l.mu.Lock()
			defer l.mu.Unlock()
			var els []map[string]any
			for _, p := range l.posts {
				if !p.Deleted {
					els = append(els, map[string]any{"id": p.URN, "commentary": p.Commentary, "content": map[string]any{"article": map[string]string{"source": p.Source}}})
				}
			}
			return http.StatusOK, map[string]any{"elements": els}
		})
	})
	mux.HandleFunc("DELETE /rest/posts/{urn}", func(w http.ResponseWriter, r *http.Request) {
		urn := r.PathValue("urn")
		l.serve(w, r, "DELETE /rest/posts/{urn}", errBody, func() (int, any) {
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, p := range l.posts {
				if p.URN == urn && !p.Deleted {
					p.Deleted = true
					return http.StatusNoContent, nil
				}
			}
			return http.StatusNotFound, map[string]any{"status": 404, "message": "Post not found"}
		})
	})
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer(r) != l.Token {
			linkedinError(w, http.StatusUnauthorized, "Invalid access token")
			return
		}
		if r.Header.Get("LinkedIn-Version") == "" || r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
			linkedinError(w, http.StatusBadRequest, "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return l
}

// validLittle: every reserved character is escaped, except inside a
// {hashtag|\#|name} template.
func validLittle(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '{' && strings.HasPrefix(s[i:], `{hashtag|\#|`) {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return false
			}
			i += end
			continue
		}
		if strings.IndexByte(`|{}@[]()<>#*_~`, c) >= 0 {
			return false
		}
	}
	return true
}

// Posts returns every post ever made, deleted ones included.
func (l *LinkedIn) Posts() []LinkedInPost {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LinkedInPost, len(l.posts))
	for i, p := range l.posts {
		out[i] = *p
	}
	return out
}
