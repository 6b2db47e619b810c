package fakes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/newsroom/newsroom/services/socialshare/richtext"
)

// BlueskyPost is a record the fake holds.
type BlueskyPost struct {
	URI, CID, RKey string
	Record         map[string]any
	Text           string
	Facets         []richtext.Facet
	Deleted        bool
}

// Bluesky fakes a PDS's XRPC: com.atproto.server.createSession,
// com.atproto.repo.uploadBlob (1,000,000 bytes at most),
// com.atproto.repo.createRecord (app.bsky.feed.post checked against the
// lexicon: 300 graphemes, 3,000 bytes, facets on UTF-8 boundaries, a TID
// record key that must be new), getRecord (RecordNotFound) and
// deleteRecord, with RateLimit-* headers and 429 RateLimitExceeded.
type Bluesky struct {
	*httptest.Server
	Faults
	Handle, Password, DID string
	RateLimit             *window

	mu       sync.Mutex
	tokens   map[string]bool
	posts    []*BlueskyPost
	byRKey   map[string]*BlueskyPost
	blobs    map[string]int
	sessions int
	ids      counter
}

// NewBluesky starts a fake PDS for one account.
func NewBluesky(handle, password string) *Bluesky {
	b := &Bluesky{Handle: handle, Password: password, DID: "did:plc:fakenewsroom0000000000",
		RateLimit: newWindow(5000, time.Hour), tokens: map[string]bool{},
		byRKey: map[string]*BlueskyPost{}, blobs: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /xrpc/com.atproto.server.createSession", b.createSession)
	mux.HandleFunc("POST /xrpc/com.atproto.repo.uploadBlob", b.auth(b.uploadBlob))
	mux.HandleFunc("POST /xrpc/com.atproto.repo.createRecord", b.auth(b.createRecord))
	mux.HandleFunc("GET /xrpc/com.atproto.repo.getRecord", b.getRecord)
	mux.HandleFunc("POST /xrpc/com.atproto.repo.deleteRecord", b.auth(b.deleteRecord))
	b.Server = httptest.NewServer(b.limited(mux))
	return b
}

func xrpcError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func (b *Bluesky) errBody(w http.ResponseWriter, status int) {
	code := "InternalServerError"
	if status == http.StatusTooManyRequests {
		code = "RateLimitExceeded"
	}
	xrpcError(w, status, code, http.StatusText(status))
}

func (b *Bluesky) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remaining, reset, ok := b.RateLimit.take()
		w.Header().Set("RateLimit-Limit", itoa(b.RateLimit.limit))
		w.Header().Set("RateLimit-Remaining", itoa(remaining))
		w.Header().Set("RateLimit-Reset", epoch(reset))
		w.Header().Set("RateLimit-Policy", itoa(b.RateLimit.limit)+";w=3600")
		if !ok {
			xrpcError(w, http.StatusTooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (b *Bluesky) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		ok := b.tokens[bearer(r)]
		b.mu.Unlock()
		if !ok {
			xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
			return
		}
		next(w, r)
	}
}

// ExpireSessions makes every access token expire, as after two hours.
func (b *Bluesky) ExpireSessions() {
	b.mu.Lock()
	b.tokens = map[string]bool{}
	b.mu.Unlock()
}

// Sessions is how many sessions were created.
func (b *Bluesky) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions
}

func (b *Bluesky) createSession(w http.ResponseWriter, r *http.Request) {
	var in struct{ Identifier, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must be JSON")
		return
	}
	if (in.Identifier != b.Handle && in.Identifier != b.DID) || in.Password != b.Password {
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	b.serve(w, r, "com.atproto.server.createSession", b.errBody, func() (int, any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.sessions++
		tok := "access-" + b.ids.next(0)
		b.tokens[tok] = true
		return http.StatusOK, map[string]any{"accessJwt": tok, "refreshJwt": "refresh-" + tok, "handle": b.Handle, "did": b.DID, "active": true}
	})
}

func cid(data []byte) string {
	h := sha256.Sum256(data)
	return "bafyrei" + hex.EncodeToString(h[:])[:52]
}

func (b *Bluesky) uploadBlob(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 2_000_001))
	if err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if len(data) > 1_000_000 {
		xrpcError(w, http.StatusBadRequest, "BlobTooLarge", "This file is too large. It is 1.00MB but the maximum size is 976.56KB.")
		return
	}
	mimeType := r.Header.Get("Content-Type")
	b.serve(w, r, "com.atproto.repo.uploadBlob", b.errBody, func() (int, any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		ref := cid(data)
		b.blobs[ref] = len(data)
		return http.StatusOK, map[string]any{"blob": map[string]any{"$type": "blob", "ref": map[string]string{"$link": ref}, "mimeType": mimeType, "size": len(data)}}
	})
}

var tidRe = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func (b *Bluesky) createRecord(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Repo       string          `json:"repo"`
		Collection string          `json:"collection"`
		RKey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must be JSON")
		return
	}
	var rec struct {
		Type      string           `json:"$type"`
		Text      *string          `json:"text"`
		CreatedAt string           `json:"createdAt"`
		Facets    []richtext.Facet `json:"facets"`
		Embed     *struct {
			Type     string `json:"$type"`
			External *struct {
				URI   string `json:"uri"`
				Title string `json:"title"`
				Thumb *struct {
					Ref map[string]string `json:"ref"`
				} `json:"thumb"`
			} `json:"external"`
		} `json:"embed"`
		Reply *struct {
			Root, Parent struct{ URI, CID string }
		} `json:"reply"`
	}
	bad := func(msg string) { xrpcError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	switch {
	case in.Repo != b.DID && in.Repo != b.Handle:
		bad("Could not find repo: " + in.Repo)
		return
	case in.Collection != "app.bsky.feed.post":
		bad("Invalid collection")
		return
	case in.RKey != "" && !tidRe.MatchString(in.RKey):
		bad("Invalid app.bsky.feed.post record key: must be a TID")
		return
	case json.Unmarshal(in.Record, &rec) != nil || rec.Type != "app.bsky.feed.post":
		bad("Invalid app.bsky.feed.post record: Record/$type must be app.bsky.feed.post")
		return
	case rec.Text == nil:
		bad(`Invalid app.bsky.feed.post record: Record must have the property "text"`)
		return
	case uniseg.GraphemeClusterCount(*rec.Text) > 300:
		bad("Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes")
		return
	case len(*rec.Text) > 3000:
		bad("Invalid app.bsky.feed.post record: Record/text must not be longer than 3000 characters")
		return
	case !richtext.Valid(*rec.Text, rec.Facets):
		bad("Invalid app.bsky.feed.post record: Record/facets must lie within the text on UTF-8 boundaries")
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, rec.CreatedAt); err != nil {
		bad("Invalid app.bsky.feed.post record: Record/createdAt must be an valid atproto datetime")
		return
	}
	if !utf8.ValidString(*rec.Text) {
		bad("Invalid app.bsky.feed.post record: Record/text must be valid UTF-8")
		return
	}
	b.serve(w, r, "com.atproto.repo.createRecord", b.errBody, func() (int, any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		rkey := in.RKey
		if rkey == "" {
			rkey = "3l" + b.ids.next(100000000000)[:11]
		}
		if p, ok := b.byRKey[rkey]; ok && !p.Deleted {
			return http.StatusBadRequest, map[string]string{"error": "InvalidRequest", "message": "Record already exists at: " + p.URI}
		}
		if e := rec.Embed; e != nil && e.External != nil && e.External.Thumb != nil {
			if _, ok := b.blobs[e.External.Thumb.Ref["$link"]]; !ok {
				return http.StatusBadRequest, map[string]string{"error": "InvalidRequest", "message": "Could not find blob: " + e.External.Thumb.Ref["$link"]}
			}
		}
		if rec.Reply != nil {
			if p := b.byURI(rec.Reply.Parent.URI); p == nil || p.CID != rec.Reply.Parent.CID {
				return http.StatusBadRequest, map[string]string{"error": "InvalidRequest", "message": "reply parent not found"}
			}
		}
		uri := "at://" + b.DID + "/app.bsky.feed.post/" + rkey
		var raw map[string]any
		_ = json.Unmarshal(in.Record, &raw)
		p := &BlueskyPost{URI: uri, CID: cid(in.Record), RKey: rkey, Record: raw, Text: *rec.Text, Facets: rec.Facets}
		b.posts = append(b.posts, p)
		b.byRKey[rkey] = p
		return http.StatusOK, map[string]any{"uri": p.URI, "cid": p.CID, "validationStatus": "valid",
			"commit": map[string]string{"cid": cid([]byte(p.URI)), "rev": rkey}}
	})
}

func (b *Bluesky) byURI(uri string) *BlueskyPost {
	for _, p := range b.posts {
		if p.URI == uri && !p.Deleted {
			return p
		}
	}
	return nil
}

func (b *Bluesky) getRecord(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b.serve(w, r, "com.atproto.repo.getRecord", b.errBody, func() (int, any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		p, ok := b.byRKey[q.Get("rkey")]
		if !ok || p.Deleted || (q.Get("repo") != b.DID && q.Get("repo") != b.Handle) || q.Get("collection") != "app.bsky.feed.post" {
			return http.StatusBadRequest, map[string]string{"error": "RecordNotFound",
				"message": "Could not locate record: at://" + q.Get("repo") + "/" + q.Get("collection") + "/" + q.Get("rkey")}
		}
		return http.StatusOK, map[string]any{"uri": p.URI, "cid": p.CID, "value": p.Record}
	})
}

func (b *Bluesky) deleteRecord(w http.ResponseWriter, r *http.Request) {
	var in struct{ Repo, Collection, RKey string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must be JSON")
		return
	}
	b.serve(w, r, "com.atproto.repo.deleteRecord", b.errBody, func() (int, any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if p, ok := b.byRKey[in.RKey]; ok {
			p.Deleted = true
		}
		return http.StatusOK, map[string]any{"commit": map[string]string{"cid": cid([]byte(in.RKey)), "rev": in.RKey}}
	})
}

// Posts returns every record ever made, deleted ones included.
func (b *Bluesky) Posts() []BlueskyPost {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BlueskyPost, len(b.posts))
	for i, p := range b.posts {
		out[i] = *p
	}
	return out
}
