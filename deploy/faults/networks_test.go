package faults_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/fakes"
)

// networks are the six social networks, faked on loopback in the test
// process with their real protocols; socialshare posts to them for real.
type networks struct {
	x        *fakes.X
	mastodon *fakes.Mastodon
	bluesky  *fakes.Bluesky
	linkedin *fakes.LinkedIn
	facebook *fakes.Meta
	threads  *fakes.Meta
}

const (
	xToken       = "x-fault-token"
	mastoToken   = "masto-fault-token"
	bskyHandle   = "newsroom.example.org"
	bskyPassword = "fault-app-password"
	liToken      = "li-fault-token"
	liAuthor     = "urn:li:organization:5515715"
	fbToken      = "fb-fault-token"
	fbPage       = "104000000000001"
	thToken      = "th-fault-token"
	thUser       = "17841400000000001"
)

func newNetworks(t *testing.T) *networks {
	t.Helper()
	n := &networks{
		x:        fakes.NewX(xToken),
		mastodon: fakes.NewMastodon(mastoToken),
		bluesky:  fakes.NewBluesky(bskyHandle, bskyPassword),
		linkedin: fakes.NewLinkedIn(liToken, liAuthor),
		facebook: fakes.NewFacebook(fbToken, fbPage),
		threads:  fakes.NewThreads(thToken, thUser),
	}
	// Room for every post and reconciliation of a scenario: the suite
	// tests crashes, not rate limits.
	n.x.RateLimit.SetLimit(100_000, 15*time.Minute)
	n.mastodon.RateLimit.SetLimit(100_000, 5*time.Minute)
	n.bluesky.RateLimit.SetLimit(100_000, time.Hour)
	for _, s := range []interface{ Close() }{n.x, n.mastodon, n.bluesky, n.linkedin, n.facebook, n.threads} {
		t.Cleanup(s.Close)
	}
	return n
}

// env is socialshare's environment pointing every network at its fake.
func (n *networks) env() map[string]string {
	env := map[string]string{
		"SOCIALSHARE_X_API_URL":            n.x.URL,
		"SOCIALSHARE_X_TOKEN":              xToken,
		"SOCIALSHARE_MASTODON_URL":         n.mastodon.URL,
		"SOCIALSHARE_MASTODON_TOKEN":       mastoToken,
		"SOCIALSHARE_BLUESKY_PDS":          n.bluesky.URL,
		"SOCIALSHARE_BLUESKY_HANDLE":       bskyHandle,
		"SOCIALSHARE_BLUESKY_APP_PASSWORD": bskyPassword,
		"SOCIALSHARE_LINKEDIN_API_URL":     n.linkedin.URL,
		"SOCIALSHARE_LINKEDIN_TOKEN":       liToken,
		"SOCIALSHARE_LINKEDIN_AUTHOR":      liAuthor,
		"SOCIALSHARE_FACEBOOK_API_URL":     n.facebook.URL,
		"SOCIALSHARE_FACEBOOK_PAGE_ID":     fbPage,
		"SOCIALSHARE_FACEBOOK_TOKEN":       fbToken,
		"SOCIALSHARE_THREADS_API_URL":      n.threads.URL,
		"SOCIALSHARE_THREADS_USER_ID":      thUser,
		"SOCIALSHARE_THREADS_TOKEN":        thToken,
		"SOCIALSHARE_HTTP_TIMEOUT":         "5s",
	}
	for _, nw := range compose.Networks {
		env["SOCIALSHARE_RATE_"+strings.ToUpper(nw)] = "60000"
	}
	return env
}

var articleLink = regexp.MustCompile(`/articles/([a-z0-9][a-z0-9_-]*)`)

// posts counts, per network, the top-level posts (not replies) each
// article has on it, deleted or not: every post ever made.
func (n *networks) posts() map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(network string, post any) {
		if out[network] == nil {
			out[network] = map[string]int{}
		}
		ids := map[string]bool{}
		for _, m := range articleLink.FindAllStringSubmatch(fmt.Sprintf("%+v", post), -1) {
			ids[m[1]] = true
		}
		for id := range ids {
			// A link's shortened display text ("…/articles/kill-0…")
			// is not another article.
			shortened := false
			for other := range ids {
				shortened = shortened || (other != id && strings.HasPrefix(other, id))
			}
			if !shortened {
				out[network][id]++
			}
		}
		if len(ids) == 0 {
			out[network]["<no article link>"]++
		}
	}
	for _, p := range n.x.Tweets() {
		if p.InReplyTo == "" {
			add(compose.X, p)
		}
	}
	for _, p := range n.mastodon.Statuses() {
		if p.InReplyToID == "" {
			add(compose.Mastodon, p)
		}
	}
	for _, p := range n.bluesky.Posts() {
		if _, reply := p.Record["reply"]; !reply {
			add(compose.Bluesky, p)
		}
	}
	for _, p := range n.linkedin.Posts() {
		add(compose.LinkedIn, p)
	}
	for _, p := range n.facebook.Posts() {
		if p.ParentID == "" {
			add(compose.Facebook, p)
		}
	}
	for _, p := range n.threads.Posts() {
		if p.ParentID == "" {
			add(compose.Threads, p)
		}
	}
	return out
}
