// Package threads posts through the Threads API in its two steps: POST
// /{user-id}/threads creates a TEXT container (reply_to_id for replies),
// POST /{user-id}/threads_publish publishes it; GET /{media-id}?fields=
// permalink names it, DELETE /{media-id} removes it, and a post is found
// by its link among the user's threads.
package threads

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
	"github.com/newsroom/newsroom/services/socialshare/networks/facebook"
)

// DefaultBaseURL is the Threads Graph API with its version.
const DefaultBaseURL = "https://graph.threads.net/v1.0"

// Client posts as one Threads user.
type Client struct {
	BaseURL, UserID, Token string
	HTTP                   *networks.HTTP
}

// New makes a client.
func New(baseURL, userID, token string, h *networks.HTTP) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	h.Network = compose.Threads
	h.ErrorBody = facebook.GraphError
	h.TransientCode = facebook.TransientCode
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), UserID: userID, Token: token, HTTP: h}
}

func (c *Client) id(data []byte, op string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return "", &networks.Error{Network: compose.Threads, Op: op, Message: "unreadable answer", Err: err}
	}
	return out.ID, nil
}

// Post creates the container and publishes it.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	form := url.Values{"media_type": {"TEXT"}, "text": {r.Post.Text}}
	if r.ReplyTo != nil {
		form.Set("reply_to_id", r.ReplyTo.ID)
	} else if r.Post.Link != "" {
		form.Set("link_attachment", r.Post.Link)
	}
	user := c.BaseURL + "/" + url.PathEscape(c.UserID)
	data, err := facebook.Form(ctx, c.HTTP, http.MethodPost, user+"/threads", c.Token, form, "POST /{user-id}/threads", true)
	if err != nil {
		return networks.Remote{}, err
	}
	container, err := c.id(data, "POST /{user-id}/threads")
	if err != nil {
		return networks.Remote{}, err
	}
	data, err = facebook.Form(ctx, c.HTTP, http.MethodPost, user+"/threads_publish", c.Token,
		url.Values{"creation_id": {container}}, "POST /{user-id}/threads_publish", false)
	if err != nil {
		return networks.Remote{}, err
	}
	media, err := c.id(data, "POST /{user-id}/threads_publish")
	if err != nil {
		return networks.Remote{}, err
	}
	return networks.Remote{ID: media, URL: c.permalink(ctx, media)}, nil
}

func (c *Client) permalink(ctx context.Context, media string) string {
	data, err := facebook.Form(ctx, c.HTTP, http.MethodGet, c.BaseURL+"/"+url.PathEscape(media)+"?fields=permalink", c.Token, nil, "GET /{media-id}", false)
	if err == nil {
		var out struct {
			Permalink string `json:"permalink"`
		}
		if json.Unmarshal(data, &out) == nil && out.Permalink != "" {
			return out.Permalink
		}
	}
	return ""
}

// Find looks for the post by its link among the user's latest threads,
// and a correction's reply, which carries the same link, among the user's
// latest replies to that post.
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	list, fields := "threads", "id,text,permalink"
	if r.ReplyTo != nil {
		list, fields = "replies", "id,text,permalink,replied_to"
	}
	op := "GET /{user-id}/" + list
	q := url.Values{"fields": {fields}, "limit": {"50"}}
	data, err := facebook.Form(ctx, c.HTTP, http.MethodGet, c.BaseURL+"/"+url.PathEscape(c.UserID)+"/"+list+"?"+q.Encode(), c.Token, nil, op, false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	var out struct {
		Data []struct {
			ID, Text, Permalink string
			RepliedTo           *struct {
				ID string `json:"id"`
			} `json:"replied_to"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return networks.Remote{}, false, &networks.Error{Network: compose.Threads, Op: op, Message: "unreadable answer", Err: err}
	}
	for _, t := range out.Data {
		if r.ReplyTo != nil && (t.RepliedTo == nil || t.RepliedTo.ID != r.ReplyTo.ID) {
			continue
		}
		if r.Post.Link != "" && strings.Contains(t.Text, r.Post.Link) {
			return networks.Remote{ID: t.ID, URL: t.Permalink}, true, nil
		}
	}
	return networks.Remote{}, false, nil
}

// Delete removes the post.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	_, err := facebook.Form(ctx, c.HTTP, http.MethodDelete, c.BaseURL+"/"+url.PathEscape(rm.ID), c.Token, nil, "DELETE /{media-id}", false)
	var e *networks.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// Replies: a post can answer another.
func (c *Client) Replies() bool { return true }
