// Package bluesky posts through a PDS's XRPC API:
// com.atproto.server.createSession (handle and app password),
// com.atproto.repo.uploadBlob (the link card's thumbnail),
// com.atproto.repo.createRecord (an app.bsky.feed.post with facets and an
// app.bsky.embed.external card), com.atproto.repo.getRecord and
// com.atproto.repo.deleteRecord. The record key is derived from the
// ledger's idempotency key and creation time, so a post is looked up by
// its key before it is ever made twice.
package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
	"github.com/newsroom/newsroom/services/socialshare/richtext"
)

// Collection of posts.
const Collection = "app.bsky.feed.post"

// MaxThumbBytes is the largest thumbnail blob the card may carry.
const MaxThumbBytes = 1_000_000

// DefaultPDS is Bluesky's entryway.
const DefaultPDS = "https://bsky.social"

// Client is one Bluesky account.
type Client struct {
	PDS         string
	Identifier  string
	AppPassword string
	HTTP        *networks.HTTP
	// Fetch loads card thumbnails; nil uses HTTP.Client.
	Fetch *http.Client

	mu      sync.Mutex
	session *session
}

type session struct {
	AccessJwt string `json:"accessJwt"`
	DID       string `json:"did"`
	Handle    string `json:"handle"`
}

// New makes a client.
func New(pds, identifier, appPassword string, h *networks.HTTP) *Client {
	if pds == "" {
		pds = DefaultPDS
	}
	h.Network = compose.Bluesky
	h.ErrorBody = errorBody
	return &Client{PDS: strings.TrimRight(pds, "/"), Identifier: identifier, AppPassword: appPassword, HTTP: h}
}

// errorBody reads XRPC's {"error","message"}.
func errorBody(b []byte) (string, string) {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	return e.Error, e.Message
}

func (c *Client) login(ctx context.Context, fresh bool) (*session, error) {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil && !fresh {
		return s, nil
	}
	body, _ := json.Marshal(map[string]string{"identifier": c.Identifier, "password": c.AppPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.PDS+"/xrpc/com.atproto.server.createSession", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	_, data, err := c.HTTP.Do(ctx, "com.atproto.server.createSession", req, false)
	if err != nil {
		return nil, err
	}
	s = &session{}
	if err := json.Unmarshal(data, s); err != nil || s.AccessJwt == "" || s.DID == "" {
		return nil, &networks.Error{Network: compose.Bluesky, Op: "com.atproto.server.createSession", Message: "unreadable session", Err: err}
	}
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
	return s, nil
}

// call makes an authenticated XRPC call, logging in again once when the
// access token expired.
func (c *Client) call(ctx context.Context, method, nsid string, query url.Values, contentType string, body []byte, limited bool) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		s, err := c.login(ctx, attempt > 0)
		if err != nil {
			return nil, err
		}
		u := c.PDS + "/xrpc/" + nsid
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+s.AccessJwt)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		_, data, err := c.HTTP.Do(ctx, nsid, req, limited)
		var e *networks.Error
		if attempt == 0 && errors.As(err, &e) && (e.Code == "ExpiredToken" || e.Code == "InvalidToken" || e.Status == http.StatusUnauthorized) {
			continue
		}
		return data, err
	}
}

// StrongRef points at a record version.
type StrongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// Blob is an uploaded blob's reference.
type Blob struct {
	Type     string            `json:"$type"`
	Ref      map[string]string `json:"ref"`
	MimeType string            `json:"mimeType"`
	Size     int               `json:"size"`
}

// External is the link card of app.bsky.embed.external.
type External struct {
	URI         string `json:"uri"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Thumb       *Blob  `json:"thumb,omitempty"`
}

// PostRecord is an app.bsky.feed.post.
type PostRecord struct {
	Type      string           `json:"$type"`
	Text      string           `json:"text"`
	CreatedAt string           `json:"createdAt"`
	Langs     []string         `json:"langs,omitempty"`
	Facets    []richtext.Facet `json:"facets,omitempty"`
	Embed     *Embed           `json:"embed,omitempty"`
	Reply     *ReplyRef        `json:"reply,omitempty"`
}

// Embed is app.bsky.embed.external.
type Embed struct {
	Type     string   `json:"$type"`
	External External `json:"external"`
}

// ReplyRef names the thread a reply belongs to.
type ReplyRef struct {
	Root   StrongRef `json:"root"`
	Parent StrongRef `json:"parent"`
}

// Post creates the record under its fixed record key.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	s, err := c.login(ctx, false)
	if err != nil {
		return networks.Remote{}, err
	}
	rec := PostRecord{Type: Collection, Text: r.Post.Text, CreatedAt: r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		Facets: r.Post.Facets}
	if r.Post.Language != "" {
		rec.Langs = []string{r.Post.Language}
	}
	if cd := r.Post.Card; cd != nil && r.ReplyTo == nil {
		ext := External{URI: cd.URL, Title: cd.Title, Description: cd.Description}
		ext.Thumb = c.thumb(ctx, cd.ImageURL)
		rec.Embed = &Embed{Type: "app.bsky.embed.external", External: ext}
	}
	if r.ReplyTo != nil {
		ref := StrongRef{URI: r.ReplyTo.ID, CID: r.ReplyTo.CID}
		rec.Reply = &ReplyRef{Root: ref, Parent: ref}
	}
	body, _ := json.Marshal(map[string]any{"repo": s.DID, "collection": Collection, "rkey": RecordKey(r), "record": rec})
	data, err := c.call(ctx, http.MethodPost, "com.atproto.repo.createRecord", nil, "application/json", body, true)
	if err != nil {
		return networks.Remote{}, err
	}
	var ref StrongRef
	if err := json.Unmarshal(data, &ref); err != nil || ref.URI == "" {
		return networks.Remote{}, &networks.Error{Network: compose.Bluesky, Op: "com.atproto.repo.createRecord", Message: "unreadable answer", Err: err}
	}
	return c.remote(ref), nil
}

func (c *Client) remote(ref StrongRef) networks.Remote {
	handle := ""
	c.mu.Lock()
	if c.session != nil {
		handle = c.session.Handle
	}
	c.mu.Unlock()
	rkey := ref.URI[strings.LastIndexByte(ref.URI, '/')+1:]
	return networks.Remote{ID: ref.URI, CID: ref.CID, URL: "https://bsky.app/profile/" + handle + "/post/" + rkey}
}

// thumb fetches and uploads the card image; a card without a thumbnail
// is better than no post, so failures leave it out.
func (c *Client) thumb(ctx context.Context, imageURL string) *Blob {
	if imageURL == "" {
		return nil
	}
	fetch := c.Fetch
	if fetch == nil {
		fetch = c.HTTP.Client
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, imageURL, nil)
	if err != nil {
		return nil
	}
	resp, err := fetch.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	mime := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(mime, "image/") {
		return nil
	}
	img, err := io.ReadAll(io.LimitReader(resp.Body, MaxThumbBytes+1))
	if err != nil || len(img) > MaxThumbBytes || len(img) == 0 {
		return nil
	}
	data, err := c.call(ctx, http.MethodPost, "com.atproto.repo.uploadBlob", nil, mime, img, false)
	if err != nil {
		return nil
	}
	var out struct {
		Blob Blob `json:"blob"`
	}
	if json.Unmarshal(data, &out) != nil || out.Blob.Ref["$link"] == "" {
		return nil
	}
	return &out.Blob
}

// Find gets the record by its key.
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	s, err := c.login(ctx, false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	q := url.Values{"repo": {s.DID}, "collection": {Collection}, "rkey": {RecordKey(r)}}
	data, err := c.call(ctx, http.MethodGet, "com.atproto.repo.getRecord", q, "", nil, false)
	var e *networks.Error
	if errors.As(err, &e) && e.Code == "RecordNotFound" {
		return networks.Remote{}, false, nil
	}
	if err != nil {
		return networks.Remote{}, false, err
	}
	var ref StrongRef
	if err := json.Unmarshal(data, &ref); err != nil || ref.URI == "" {
		return networks.Remote{}, false, &networks.Error{Network: compose.Bluesky, Op: "com.atproto.repo.getRecord", Message: "unreadable answer", Err: err}
	}
	return c.remote(ref), true, nil
}

// Delete removes the record named by its at:// URI.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	parts := strings.Split(strings.TrimPrefix(rm.ID, "at://"), "/")
	if len(parts) != 3 {
		return &networks.Error{Network: compose.Bluesky, Op: "com.atproto.repo.deleteRecord", Message: "not a record URI: " + rm.ID}
	}
	body, _ := json.Marshal(map[string]string{"repo": parts[0], "collection": parts[1], "rkey": parts[2]})
	_, err := c.call(ctx, http.MethodPost, "com.atproto.repo.deleteRecord", nil, "application/json", body, false)
	return err
}

// Replies: a post can answer another.
func (c *Client) Replies() bool { return true }

const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// RecordKey is the post's TID record key: the ledger's creation time in
// microseconds and a clock id from the idempotency key, so every attempt
// names the same record.
func RecordKey(r networks.Request) string {
	h := fnv.New32a()
	h.Write([]byte(r.Key))
	return TID(r.CreatedAt, uint64(h.Sum32()&1023))
}

// TID encodes a timestamp identifier: 53 bits of microseconds since the
// epoch and 10 bits of clock id, in base32-sortable, 13 characters.
func TID(t time.Time, clockID uint64) string {
	v := (uint64(t.UnixMicro())&(1<<53-1))<<10 | clockID&1023
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}
