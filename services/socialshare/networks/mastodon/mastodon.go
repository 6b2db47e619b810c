// Package mastodon posts statuses through the Mastodon REST API: POST
// /api/v1/statuses with an Idempotency-Key (the server answers a repeated
// key with the status it already made), DELETE /api/v1/statuses/:id, and
// the instance's live limits from GET /api/v2/instance.
package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// Client is a Mastodon account on one instance.
type Client struct {
	// BaseURL of the instance, e.g. https://mastodon.social.
	BaseURL string
	// Token is a user access token with write:statuses.
	Token      string
	Visibility string
	HTTP       *networks.HTTP
}

// New makes a client; h carries the HTTP client and bucket.
func New(baseURL, token string, h *networks.HTTP) *Client {
	h.Network = compose.Mastodon
	h.ErrorBody = errorBody
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Visibility: "public", HTTP: h}
}

func errorBody(b []byte) (string, string) {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	return "", strings.TrimSpace(e.Error + " " + e.ErrorDescription)
}

// Status is the part of Mastodon's Status entity newsroom reads.
type Status struct {
	ID      string `json:"id"`
	URI     string `json:"uri"`
	URL     string `json:"url"`
	Content string `json:"content"`
}

type statusRequest struct {
	Status      string `json:"status"`
	Visibility  string `json:"visibility,omitempty"`
	Language    string `json:"language,omitempty"`
	InReplyToID string `json:"in_reply_to_id,omitempty"`
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
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Post creates the status. The Idempotency-Key makes a repeated request
// (after a timeout or a crash) return the status already made.
func (c *Client) Post(ctx context.Context, r networks.Request) (networks.Remote, error) {
	body := statusRequest{Status: r.Post.Text, Visibility: c.Visibility, Language: r.Post.Language}
	if r.ReplyTo != nil {
		body.InReplyToID = r.ReplyTo.ID
	}
	req, err := c.request(ctx, http.MethodPost, "/api/v1/statuses", body)
	if err != nil {
		return networks.Remote{}, err
	}
	req.Header.Set("Idempotency-Key", r.Key)
	_, data, err := c.HTTP.Do(ctx, "POST /api/v1/statuses", req, true)
	if err != nil {
		return networks.Remote{}, err
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil || st.ID == "" {
		return networks.Remote{}, &networks.Error{Network: compose.Mastodon, Op: "POST /api/v1/statuses", Message: "unreadable status", Err: err}
	}
	return networks.Remote{ID: st.ID, URL: st.URL}, nil
}

// Find repeats the request with the same Idempotency-Key: Mastodon keeps
// keys for an hour and answers with the status already made, so this
// finds it without making a second one. Past that hour it would post; the
// service only calls Find right after an unknown outcome.
func (c *Client) Find(ctx context.Context, r networks.Request) (networks.Remote, bool, error) {
	return networks.Remote{}, false, nil
}

// Delete removes the status.
func (c *Client) Delete(ctx context.Context, rm networks.Remote) error {
	req, err := c.request(ctx, http.MethodDelete, "/api/v1/statuses/"+url.PathEscape(rm.ID), nil)
	if err != nil {
		return err
	}
	_, _, err = c.HTTP.Do(ctx, "DELETE /api/v1/statuses/:id", req, false)
	if e, ok := err.(*networks.Error); ok && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// Replies: a status can answer another.
func (c *Client) Replies() bool { return true }

// Rules reads the instance's limits from /api/v2/instance.
func (c *Client) Rules(ctx context.Context, base compose.Rules) (compose.Rules, error) {
	req, err := c.request(ctx, http.MethodGet, "/api/v2/instance", nil)
	if err != nil {
		return base, err
	}
	_, data, err := c.HTTP.Do(ctx, "GET /api/v2/instance", req, false)
	if err != nil {
		return base, err
	}
	var inst struct {
		Configuration struct {
			Statuses struct {
				MaxCharacters            int `json:"max_characters"`
				CharactersReservedPerURL int `json:"characters_reserved_per_url"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	if err := json.Unmarshal(data, &inst); err != nil {
		return base, fmt.Errorf("mastodon instance: %w", err)
	}
	if n := inst.Configuration.Statuses.MaxCharacters; n > 0 {
		base.MaxLength = n
	}
	if n := inst.Configuration.Statuses.CharactersReservedPerURL; n > 0 {
		base.URLLength = n
	}
	return base, nil
}
