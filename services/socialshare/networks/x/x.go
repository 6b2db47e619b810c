// Package x posts through the X API v2: POST /2/tweets and DELETE
// /2/tweets/:id with an OAuth 2.0 user access token. X takes no
// idempotency key, so an attempt whose outcome is unknown is settled by
// looking through the account's recent posts (GET /2/users/:id/tweets) for
// one carrying the article's link, whose UTM parameters make it unique.
package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// DefaultBaseURL is the X API.
const DefaultBaseURL = "https://api.x.com"

// Client is one X account.
type Client struct {
	BaseURL string
	// Token is an OAuth 2.0 user access token (tweet.read tweet.write
	// users.read).
	Token string
	HTTP  *networks.HTTP

	mu       sync.Mutex
	userID   string
	username string
}

// New makes a client.
func New(baseURL, token string, h *networks.HTTP) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	h.Network = compose.X
	h.ErrorBody = errorBody
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: h}
}

// errorBody reads X's problem details ({"title","detail","type"}) or the
// v1-style {"errors":[{"message","code"}]}.
func errorBody(b []byte) (string, string) {
	var e struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Type   string `json:"type"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	msg := e.Detail
	if msg == "" && len(e.Errors) > 0 {
		msg = e.Errors[0].Message
	}
	return e.Title, msg
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
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

type tweetRequest struct {
	Text  string `json:"text"`
	Reply *struct {
		InReplyToTweetID string `json:"in_reply_to_tweet_id"`
	} `json:"reply,omitempty"`
}

// Post creates the tweet.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	body := tweetRequest{Text: r.Post.Text}
	if r.ReplyTo != nil {
		body.Reply = &struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		}{r.ReplyTo.ID}
	}
	req, err := c.request(ctx, http.MethodPost, "/2/tweets", body)
	if err != nil {
		return networks.Remote{}, err
	}
	_, data, err := c.HTTP.Do(ctx, "POST /2/tweets", req, true)
	if duplicate(err) {
		// X keeps no idempotency key, but refuses a tweet identical to
		// one the account has: after an attempt whose answer was lost (or
		// another instance's attempt racing this one), that refusal means
		// the post is there. It carries the article's link: find it.
		if remote, found, ferr := c.Find(ctx, r); ferr == nil && found {
			return remote, nil
		}
	}
	if err != nil {
		return networks.Remote{}, err
	}
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Data.ID == "" {
		return networks.Remote{}, &networks.Error{Network: compose.X, Op: "POST /2/tweets", Message: "unreadable answer", Err: err}
	}
	return networks.Remote{ID: out.Data.ID, URL: c.statusURL(ctx, out.Data.ID)}, nil
}

// duplicate is X's refusal of a tweet identical to one the account has.
func duplicate(err error) bool {
	var ne *networks.Error
	return errors.As(err, &ne) && ne.Status == http.StatusForbidden && strings.Contains(ne.Message, "duplicate content")
}

func (c *Client) statusURL(ctx context.Context, id string) string {
	if _, username, err := c.me(ctx); err == nil && username != "" {
		return "https://x.com/" + username + "/status/" + id
	}
	return "https://x.com/i/web/status/" + id
}

// me is the authenticated user (GET /2/users/me), cached.
func (c *Client) me(ctx context.Context) (id, username string, err error) {
	c.mu.Lock()
	id, username = c.userID, c.username
	c.mu.Unlock()
	if id != "" {
		return id, username, nil
	}
	req, err := c.request(ctx, http.MethodGet, "/2/users/me", nil)
	if err != nil {
		return "", "", err
	}
	_, data, err := c.HTTP.Do(ctx, "GET /2/users/me", req, false)
	if err != nil {
		return "", "", err
	}
	var out struct {
		Data struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Data.ID == "" {
		return "", "", &networks.Error{Network: compose.X, Op: "GET /2/users/me", Message: "unreadable answer", Err: err}
	}
	c.mu.Lock()
	c.userID, c.username = out.Data.ID, out.Data.Username
	c.mu.Unlock()
	return out.Data.ID, out.Data.Username, nil
}

// Find looks for the post among the account's latest 100, by the link it
// carries (X reports it expanded in entities.urls).
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	id, _, err := c.me(ctx)
	if err != nil {
		return networks.Remote{}, false, err
	}
	q := url.Values{"max_results": {"100"}, "tweet.fields": {"entities,referenced_tweets"}}
	req, err := c.request(ctx, http.MethodGet, "/2/users/"+url.PathEscape(id)+"/tweets?"+q.Encode(), nil)
	if err != nil {
		return networks.Remote{}, false, err
	}
	_, data, err := c.HTTP.Do(ctx, "GET /2/users/:id/tweets", req, false)
	if err != nil {
		return networks.Remote{}, false, err
	}
	var out struct {
		Data []struct {
			ID       string `json:"id"`
			Text     string `json:"text"`
			Entities struct {
				URLs []struct {
					ExpandedURL string `json:"expanded_url"`
				} `json:"urls"`
			} `json:"entities"`
			ReferencedTweets []struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			} `json:"referenced_tweets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return networks.Remote{}, false, &networks.Error{Network: compose.X, Op: "GET /2/users/:id/tweets", Message: "unreadable answer", Err: err}
	}
	p := r.Post
	for _, t := range out.Data {
		// A correction's reply carries the article's link as the post
		// does: only a reply to that post is the reply looked for, and
		// only a tweet that replies to nothing is the post.
		repliesTo := ""
		for _, ref := range t.ReferencedTweets {
			if ref.Type == "replied_to" {
				repliesTo = ref.ID
			}
		}
		if (r.ReplyTo == nil && repliesTo != "") || (r.ReplyTo != nil && repliesTo != r.ReplyTo.ID) {
			continue
		}
		found := false
		for _, u := range t.Entities.URLs {
			found = found || u.ExpandedURL == p.Link
		}
		// A link X does not take for one (a host without a top-level
		// domain it knows, as on a local stack) is not in entities.urls
		// and not shortened: the text stays as posted (with &, < and >
		// escaped), and X refuses a second tweet of exactly that text.
		found = found || (p.Link != "" && strings.Contains(p.Text, p.Link) && html.UnescapeString(t.Text) == p.Text)
		if found {
			return networks.Remote{ID: t.ID, URL: c.statusURL(ctx, t.ID)}, true, nil
		}
	}
	return networks.Remote{}, false, nil
}

// Delete removes the tweet.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	req, err := c.request(ctx, http.MethodDelete, "/2/tweets/"+url.PathEscape(rm.ID), nil)
	if err != nil {
		return err
	}
	_, _, err = c.HTTP.Do(ctx, "DELETE /2/tweets/:id", req, false)
	var e *networks.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// Replies: a tweet can answer another.
func (c *Client) Replies() bool { return true }
