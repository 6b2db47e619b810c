package socialshare

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// Config of the socialshare service.
type Config struct {
	// Networks to post to; defaults to compose.Networks.
	Networks []string
	Streams  bus.StreamOptions
	Now      func() time.Time
	// Site is the publication's name, for templates.
	Site string
	// Templates replace the composer's defaults (see compose.New).
	Templates map[string]string
	// Credentials of the networks; a network without them stays in dry
	// run: its posts are composed and recorded, never sent.
	Credentials Credentials
	// Clients, when set for a network, are used instead of clients built
	// from Credentials.
	Clients map[string]networks.Client
	// Delays after the article's publication before posting, per network.
	Delays map[string]time.Duration
	// PerMinute is each network's token bucket rate (posts a minute).
	PerMinute map[string]float64
	// MaxAttempts at one post before it is FAILED (default 6).
	MaxAttempts int
	// RetryBase doubles from one failed attempt to the next (default 2s),
	// up to RetryMax (default 15m); a network's Retry-After wins if longer.
	RetryBase, RetryMax time.Duration
	// InlineWait is the longest wait spent in process before a retry;
	// longer waits release the message and come back (default 5s).
	InlineWait time.Duration
	// HTTPTimeout bounds one call to a network (default 15s).
	HTTPTimeout time.Duration
}

// Credentials of every network.
type Credentials struct {
	X        XCredentials
	Mastodon MastodonCredentials
	Bluesky  BlueskyCredentials
	LinkedIn LinkedInCredentials
	Facebook FacebookCredentials
	Threads  ThreadsCredentials
}

// XCredentials: an OAuth 2.0 user access token.
type XCredentials struct{ BaseURL, Token string }

// MastodonCredentials: the instance and a user access token.
type MastodonCredentials struct{ BaseURL, Token string }

// BlueskyCredentials: a handle (or DID) and an app password.
type BlueskyCredentials struct{ PDS, Identifier, AppPassword string }

// LinkedInCredentials: a token with w_organization_social (or
// w_member_social) and the author URN.
type LinkedInCredentials struct{ BaseURL, Token, Author, Version string }

// FacebookCredentials: a Page id and a Page access token.
type FacebookCredentials struct{ BaseURL, PageID, Token string }

// ThreadsCredentials: a Threads user id and access token.
type ThreadsCredentials struct{ BaseURL, UserID, Token string }

// ConfigFromEnv reads the service's configuration. Secrets may be given
// directly or, with a _FILE suffix, as the path of a file holding them:
//
//	SOCIALSHARE_NETWORKS                 comma-separated (default: all six)
//	SOCIALSHARE_SITE_NAME                publication name for templates (default NEWSROOM_SITE_NAME)
//	SOCIALSHARE_TEMPLATES_FILE           JSON object of templates ("x", "x/politics", "correction", …)
//	SOCIALSHARE_DELAY_<NETWORK>          wait after publication, e.g. 10m
//	SOCIALSHARE_RATE_<NETWORK>           posts a minute for the token bucket
//	SOCIALSHARE_MAX_ATTEMPTS, SOCIALSHARE_HTTP_TIMEOUT
//	SOCIALSHARE_X_TOKEN[_FILE]           OAuth 2.0 user access token; SOCIALSHARE_X_API_URL
//	SOCIALSHARE_MASTODON_URL             instance; SOCIALSHARE_MASTODON_TOKEN[_FILE]
//	SOCIALSHARE_BLUESKY_HANDLE           SOCIALSHARE_BLUESKY_APP_PASSWORD[_FILE]; SOCIALSHARE_BLUESKY_PDS
//	SOCIALSHARE_LINKEDIN_AUTHOR          urn:li:organization:…; SOCIALSHARE_LINKEDIN_TOKEN[_FILE];
//	                                     SOCIALSHARE_LINKEDIN_API_URL, SOCIALSHARE_LINKEDIN_VERSION
//	SOCIALSHARE_FACEBOOK_PAGE_ID         SOCIALSHARE_FACEBOOK_TOKEN[_FILE]; SOCIALSHARE_FACEBOOK_API_URL
//	SOCIALSHARE_THREADS_USER_ID          SOCIALSHARE_THREADS_TOKEN[_FILE]; SOCIALSHARE_THREADS_API_URL
//
// A network given some but not all of what it needs is an error, not a
// silent dry run.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	secret := func(name string) string {
		v := getenv(name)
		if path := getenv(name + "_FILE"); path != "" {
			if v != "" {
				fail("%s and %s_FILE are both set", name, name)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				fail("%s_FILE: %v", name, err)
				return ""
			}
			v = strings.TrimSpace(string(b))
			if v == "" {
				fail("%s_FILE: %s is empty", name, path)
			}
		}
		return v
	}
	if v := getenv("SOCIALSHARE_NETWORKS"); v != "" {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if _, err := compose.RulesFor(n); err != nil {
				fail("SOCIALSHARE_NETWORKS: %v", err)
				continue
			}
			c.Networks = append(c.Networks, n)
		}
	}
	c.Site = getenv("SOCIALSHARE_SITE_NAME")
	if c.Site == "" {
		c.Site = getenv("NEWSROOM_SITE_NAME")
	}
	if path := getenv("SOCIALSHARE_TEMPLATES_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &c.Templates)
		}
		if err != nil {
			fail("SOCIALSHARE_TEMPLATES_FILE: %v", err)
		}
	}
	for _, n := range compose.Networks {
		up := strings.ToUpper(n)
		if v := getenv("SOCIALSHARE_DELAY_" + up); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				fail("SOCIALSHARE_DELAY_%s=%q: want a duration such as 10m", up, v)
			} else {
				if c.Delays == nil {
					c.Delays = map[string]time.Duration{}
				}
				c.Delays[n] = d
			}
		}
		if v := getenv("SOCIALSHARE_RATE_" + up); v != "" {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r <= 0 {
				fail("SOCIALSHARE_RATE_%s=%q: want posts a minute, e.g. 2", up, v)
			} else {
				if c.PerMinute == nil {
					c.PerMinute = map[string]float64{}
				}
				c.PerMinute[n] = r
			}
		}
	}
	if v := getenv("SOCIALSHARE_MAX_ATTEMPTS"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			fail("SOCIALSHARE_MAX_ATTEMPTS=%q: want a positive number", v)
		} else {
			c.MaxAttempts = n
		}
	}
	if v := getenv("SOCIALSHARE_HTTP_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			fail("SOCIALSHARE_HTTP_TIMEOUT=%q: want a duration", v)
		} else {
			c.HTTPTimeout = d
		}
	}

	cr := &c.Credentials
	cr.X = XCredentials{BaseURL: getenv("SOCIALSHARE_X_API_URL"), Token: secret("SOCIALSHARE_X_TOKEN")}
	cr.Mastodon = MastodonCredentials{BaseURL: getenv("SOCIALSHARE_MASTODON_URL"), Token: secret("SOCIALSHARE_MASTODON_TOKEN")}
	cr.Bluesky = BlueskyCredentials{PDS: getenv("SOCIALSHARE_BLUESKY_PDS"), Identifier: getenv("SOCIALSHARE_BLUESKY_HANDLE"),
		AppPassword: secret("SOCIALSHARE_BLUESKY_APP_PASSWORD")}
	cr.LinkedIn = LinkedInCredentials{BaseURL: getenv("SOCIALSHARE_LINKEDIN_API_URL"), Token: secret("SOCIALSHARE_LINKEDIN_TOKEN"),
		Author: getenv("SOCIALSHARE_LINKEDIN_AUTHOR"), Version: getenv("SOCIALSHARE_LINKEDIN_VERSION")}
	cr.Facebook = FacebookCredentials{BaseURL: getenv("SOCIALSHARE_FACEBOOK_API_URL"), PageID: getenv("SOCIALSHARE_FACEBOOK_PAGE_ID"),
		Token: secret("SOCIALSHARE_FACEBOOK_TOKEN")}
	cr.Threads = ThreadsCredentials{BaseURL: getenv("SOCIALSHARE_THREADS_API_URL"), UserID: getenv("SOCIALSHARE_THREADS_USER_ID"),
		Token: secret("SOCIALSHARE_THREADS_TOKEN")}
	for _, p := range []struct {
		network string
		given   []string
		names   string
	}{
		{compose.Mastodon, []string{cr.Mastodon.BaseURL, cr.Mastodon.Token}, "SOCIALSHARE_MASTODON_URL and SOCIALSHARE_MASTODON_TOKEN"},
		{compose.Bluesky, []string{cr.Bluesky.Identifier, cr.Bluesky.AppPassword}, "SOCIALSHARE_BLUESKY_HANDLE and SOCIALSHARE_BLUESKY_APP_PASSWORD"},
		{compose.LinkedIn, []string{cr.LinkedIn.Token, cr.LinkedIn.Author}, "SOCIALSHARE_LINKEDIN_TOKEN and SOCIALSHARE_LINKEDIN_AUTHOR"},
		{compose.Facebook, []string{cr.Facebook.PageID, cr.Facebook.Token}, "SOCIALSHARE_FACEBOOK_PAGE_ID and SOCIALSHARE_FACEBOOK_TOKEN"},
		{compose.Threads, []string{cr.Threads.UserID, cr.Threads.Token}, "SOCIALSHARE_THREADS_USER_ID and SOCIALSHARE_THREADS_TOKEN"},
	} {
		set := 0
		for _, g := range p.given {
			if g != "" {
				set++
			}
		}
		if set > 0 && set < len(p.given) {
			fail("%s needs both %s", p.network, p.names)
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("socialshare config: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Networks) == 0 {
		c.Networks = compose.Networks
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 15 * time.Minute
	}
	if c.InlineWait <= 0 {
		c.InlineWait = 5 * time.Second
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = 15 * time.Second
	}
	return c
}

// defaultPerMinute are conservative posting rates, well inside each
// network's published limits.
var defaultPerMinute = map[string]float64{
	compose.X: 10, compose.Mastodon: 20, compose.Bluesky: 30,
	compose.LinkedIn: 10, compose.Facebook: 10, compose.Threads: 5,
}
