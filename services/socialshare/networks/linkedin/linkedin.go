// Package linkedin posts through LinkedIn's Posts API (POST /rest/posts
// with the LinkedIn-Version and X-Restli-Protocol-Version headers; the new
// post's URN comes back in x-restli-id), DELETE /rest/posts/{urn}, and finds
// a post by its article link among the author's posts. Commentary is in
// LinkedIn's "little" text format, escaped by the composer.
package linkedin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// DefaultBaseURL is LinkedIn's API.
const DefaultBaseURL = "https://api.linkedin.com"

// DefaultVersion is the LinkedIn-Version (YYYYMM) spoken.
const DefaultVersion = "202405"

// Client posts as one author (urn:li:organization:… or urn:li:person:…).
type Client struct {
	BaseURL, Token, Author, Version string
	HTTP                            *networks.HTTP
}

// New makes a client.
func New(baseURL, token, author, version string, h *networks.HTTP) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if version == "" {
		version = DefaultVersion
	}
	h.Network = compose.LinkedIn
	h.ErrorBody = func(b []byte) (string, string) {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) != nil {
			return "", ""
		}
		return e.Code, e.Message
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Author: author, Version: version, HTTP: h}
}

func (c *Client) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var buf []byte
	if body != nil {
		var err error
		if buf, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(buf))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("LinkedIn-Version", c.Version)
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Article is the post's link content.
type Article struct {
	Source      string `json:"source"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// PostBody is a Posts API post.
type PostBody struct {
	Author       string `json:"author"`
	Commentary   string `json:"commentary"`
	Visibility   string `json:"visibility"`
	Distribution struct {
		FeedDistribution               string   `json:"feedDistribution"`
		TargetEntities                 []string `json:"targetEntities"`
		ThirdPartyDistributionChannels []string `json:"thirdPartyDistributionChannels"`
	} `json:"distribution"`
	Content *struct {
		Article Article `json:"article"`
	} `json:"content,omitempty"`
	LifecycleState            string `json:"lifecycleState"`
	IsReshareDisabledByAuthor bool   `json:"isReshareDisabledByAuthor"`
}

// Post creates the post with the article as its content.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	if r.ReplyTo != nil {
		return networks.Remote{}, &networks.Error{Network: compose.LinkedIn, Op: "POST /rest/posts", Message: "replies are not supported"}
	}
	b := PostBody{Author: c.Author, Commentary: r.Post.Text, Visibility: "PUBLIC", LifecycleState: "PUBLISHED"}
	b.Distribution.FeedDistribution = "MAIN_FEED"
	b.Distribution.TargetEntities = []string{}
	b.Distribution.ThirdPartyDistributionChannels = []string{}
	art := Article{Source: r.Post.Link}
	if cd := r.Post.Card; cd != nil {
		art.Title, art.Description = cd.Title, cd.Description
	}
	b.Content = &struct {
		Article Article `json:"article"`
	}{art}
	req, err := c.request(ctx, http.MethodPost, "/rest/posts", b)
	if err != nil {
		return networks.Remote{}, err
	}
	resp, _, err := c.HTTP.Do(ctx, "POST /rest/posts", req, true)
	if err != nil {
		return networks.Remote{}, err
	}
	urn := resp.Header.Get("X-Restli-Id")
	if urn == "" {
		return networks.Remote{}, &networks.Error{Network: compose.LinkedIn, Op: "POST /rest/posts", Message: "no x-restli-id in the answer"}
	}
	return networks.Remote{ID: urn, URL: "https://www.linkedin.com/feed/update/" + urn + "/"}, nil
}

// Find looks for the post among the author's latest by its link.
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	q := url.Values{"q": {"author"}, "author": {c.Author}, "count": {"50"}}
	req, err := c.request(ctx, http.MethodGet, "/rest/posts?"+q.Encode(), nil)
	if err != nil {
		return networks.Remote{}, false, err
	}
	req.Header.Set("X-RestLi-Method", "FINDER")
	_, data, err := c.HTTP.Do(ctx, "GET /rest/posts?q=author", req, false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	var out struct {
		Elements []struct {
			ID      string `json:"id"`
			Content struct {
				Article Article `json:"article"`
			} `json:"content"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return networks.Remote{}, false, &networks.Error{Network: compose.LinkedIn, Op: "GET /rest/posts", Message: "unreadable answer", Err: err}
	}
	for _, e := range out.Elements {
		if e.Content.Article.Source == r.Post.Link {
			return networks.Remote{ID: e.ID, URL: "https://www.linkedin.com/feed/update/" + e.ID + "/"}, true, nil
		}
	}
	return networks.Remote{}, false, nil
}

// Delete removes the post.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	req, err := c.request(ctx, http.MethodDelete, "/rest/posts/"+url.PathEscape(rm.ID), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-RestLi-Method", "DELETE")
	_, _, err = c.HTTP.Do(ctx, "DELETE /rest/posts/{urn}", req, false)
	var e *networks.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// Replies: newsroom does not comment on LinkedIn posts.
func (c *Client) Replies() bool { return false }
