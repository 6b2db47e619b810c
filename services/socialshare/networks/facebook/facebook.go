// Package facebook posts to a Facebook Page through the Graph API: POST
// /{page-id}/feed with message and link (the preview comes from the page's
// Open Graph tags), POST /{post-id}/comments for corrections, DELETE
// /{post-id}, and finds a post by its link in the page's feed.
package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// DefaultBaseURL is the Graph API with its version.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// Client posts as one Page with a Page access token.
type Client struct {
	BaseURL, PageID, Token string
	HTTP                   *networks.HTTP
}

// New makes a client.
func New(baseURL, pageID, token string, h *networks.HTTP) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	h.Network = compose.Facebook
	h.ErrorBody = GraphError
	h.TransientCode = TransientCode
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), PageID: pageID, Token: token, HTTP: h}
}

// GraphError reads the Graph API's {"error":{"message","type","code"}}.
func GraphError(b []byte) (string, string) {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	code := e.Error.Type
	if e.Error.Code != 0 {
		code = strings.TrimSpace(code + " " + itoa(e.Error.Code))
	}
	return code, e.Error.Message
}

// TransientCode: the Graph API's "temporary" (1, 2) and throttling (4,
// 17, 32, 341, 613) error codes.
func TransientCode(code string) bool {
	switch code[strings.LastIndexByte(code, ' ')+1:] {
	case "1", "2", "4", "17", "32", "341", "613":
		return true
	}
	return false
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Form posts form values to the Graph API with the bearer token.
func Form(ctx context.Context, h *networks.HTTP, method, u, token string, form url.Values, op string, limited bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	_, data, err := h.Do(ctx, op, req, limited)
	return data, err
}

// Post publishes message and link on the page's feed; a reply becomes a
// comment under the original post.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	var data []byte
	var err error
	if r.ReplyTo != nil {
		data, err = Form(ctx, c.HTTP, http.MethodPost, c.BaseURL+"/"+url.PathEscape(r.ReplyTo.ID)+"/comments", c.Token,
			url.Values{"message": {r.Post.Text}}, "POST /{post-id}/comments", true)
	} else {
		data, err = Form(ctx, c.HTTP, http.MethodPost, c.BaseURL+"/"+url.PathEscape(c.PageID)+"/feed", c.Token,
			url.Values{"message": {r.Post.Text}, "link": {r.Post.Link}}, "POST /{page-id}/feed", true)
	}
	if err != nil {
		return networks.Remote{}, err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return networks.Remote{}, &networks.Error{Network: compose.Facebook, Op: "POST", Message: "unreadable answer", Err: err}
	}
	return networks.Remote{ID: out.ID, URL: "https://www.facebook.com/" + out.ID}, nil
}

// Find looks for the post by its link among the page's latest, and a
// correction's comment by its text among the post's comments (the Graph
// API takes no idempotency key: this is what keeps a retry after an
// unknown outcome from commenting twice).
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	if r.ReplyTo != nil {
		return c.findComment(ctx, r)
	}
	q := url.Values{"fields": {"id,message,link,permalink_url"}, "limit": {"50"}}
	data, err := Form(ctx, c.HTTP, http.MethodGet, c.BaseURL+"/"+url.PathEscape(c.PageID)+"/feed?"+q.Encode(), c.Token, nil, "GET /{page-id}/feed", false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	var out struct {
		Data []struct {
			ID           string `json:"id"`
			Link         string `json:"link"`
			PermalinkURL string `json:"permalink_url"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return networks.Remote{}, false, &networks.Error{Network: compose.Facebook, Op: "GET /{page-id}/feed", Message: "unreadable answer", Err: err}
	}
	for _, p := range out.Data {
		if p.Link == r.Post.Link {
			u := p.PermalinkURL
			if u == "" {
				u = "https://www.facebook.com/" + p.ID
			}
			return networks.Remote{ID: p.ID, URL: u}, true, nil
		}
	}
	return networks.Remote{}, false, nil
}

func (c *Client) findComment(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	const op = "GET /{post-id}/comments"
	q := url.Values{"fields": {"id,message"}, "limit": {"100"}, "filter": {"stream"}, "order": {"reverse_chronological"}}
	data, err := Form(ctx, c.HTTP, http.MethodGet, c.BaseURL+"/"+url.PathEscape(r.ReplyTo.ID)+"/comments?"+q.Encode(), c.Token, nil, op, false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	var out struct {
		Data []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return networks.Remote{}, false, &networks.Error{Network: compose.Facebook, Op: op, Message: "unreadable answer", Err: err}
	}
	for _, cm := range out.Data {
		if cm.Message == r.Post.Text {
			return networks.Remote{ID: cm.ID, URL: "https://www.facebook.com/" + cm.ID}, true, nil
		}
	}
	return networks.Remote{}, false, nil
}

// Delete removes the post.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	_, err := Form(ctx, c.HTTP, http.MethodDelete, c.BaseURL+"/"+url.PathEscape(rm.ID), c.Token, nil, "DELETE /{post-id}", false)
	var e *networks.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// Replies: a correction becomes a comment.
func (c *Client) Replies() bool { return true }
