package rendering

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/newsroom/newsroom/services/rendering/page"
)

// SiteEnvHelp documents the environment SiteFromEnv reads, for the
// binaries' help texts.
const SiteEnvHelp = `  NEWSROOM_PUBLIC_URL            the site's public base URL, e.g. https://news.example.com
  NEWSROOM_SITE_NAME             the publication's name (default Newsroom)
  NEWSROOM_SITE_DESCRIPTION      one line about the publication (feeds, home page)
  NEWSROOM_SITE_LANGUAGE         default language, BCP 47 (default en)
  NEWSROOM_SITE_LOGO             publisher logo URL (default: a wordmark at /assets/logo.png)
  NEWSROOM_SITE_LOGO_WIDTH       its width in pixels
  NEWSROOM_SITE_LOGO_HEIGHT      its height in pixels
  NEWSROOM_SITE_X_HANDLE         the publication's X account, e.g. @newsroom
  NEWSROOM_SITE_FACEBOOK_APP_ID  announced as fb:app_id
  NEWSROOM_SITE_PROFILES         comma-separated profile URLs elsewhere (JSON-LD sameAs)
`

// SiteFromEnv reads the site's identity from the environment. An empty
// base URL is left empty for the caller to default (the all-in-one knows
// its listen address); everything set is checked.
func SiteFromEnv(getenv func(string) string) (page.Site, error) {
	s := page.Site{
		Name:          strings.TrimSpace(getenv("NEWSROOM_SITE_NAME")),
		BaseURL:       strings.TrimRight(strings.TrimSpace(getenv("NEWSROOM_PUBLIC_URL")), "/"),
		Description:   strings.TrimSpace(getenv("NEWSROOM_SITE_DESCRIPTION")),
		Language:      strings.TrimSpace(getenv("NEWSROOM_SITE_LANGUAGE")),
		LogoURL:       strings.TrimSpace(getenv("NEWSROOM_SITE_LOGO")),
		XHandle:       strings.TrimSpace(getenv("NEWSROOM_SITE_X_HANDLE")),
		FacebookAppID: strings.TrimSpace(getenv("NEWSROOM_SITE_FACEBOOK_APP_ID")),
	}
	if s.Name == "" {
		s.Name = "Newsroom"
	}
	if s.Language == "" {
		s.Language = "en"
	}
	if s.XHandle != "" && !strings.HasPrefix(s.XHandle, "@") {
		s.XHandle = "@" + s.XHandle
	}
	for _, p := range strings.Split(getenv("NEWSROOM_SITE_PROFILES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.SameAs = append(s.SameAs, p)
		}
	}
	for _, dim := range []struct {
		name string
		to   *int
	}{{"NEWSROOM_SITE_LOGO_WIDTH", &s.LogoWidth}, {"NEWSROOM_SITE_LOGO_HEIGHT", &s.LogoHeight}} {
		if v := strings.TrimSpace(getenv(dim.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return page.Site{}, fmt.Errorf("%s: %q is not a positive number of pixels", dim.name, v)
			}
			*dim.to = n
		}
	}
	check := s
	if check.BaseURL == "" {
		check.BaseURL = "http://localhost"
	}
	if err := check.Check(); err != nil {
		return page.Site{}, err
	}
	return s, nil
}
