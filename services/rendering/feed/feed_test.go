package feed_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsroom/newsroom/services/rendering/feed"
)

var when = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func sample() feed.Feed {
	return feed.Feed{
		Title: "The Daily Test", Description: "News & more <for> testers", Link: "https://news.example/",
		Self: "https://news.example/feed.xml", Language: "en", Author: "The Daily Test",
		Items: []feed.Item{
			{ID: "a", URL: "https://news.example/articles/a", Title: "Ünïcode & <markup> headline", Summary: "Dek of a",
				Published: when, Updated: when.Add(time.Hour),
				Authors: []feed.Author{{Name: "Ana", URL: "https://news.example/authors/ana"}}, Categories: []string{"Courts", "Seattle"}},
			{ID: "b", URL: "https://news.example/articles/b", Title: "Second", Published: when.Add(-time.Hour), Updated: when.Add(-time.Hour)},
		},
	}
}

// TestRSSParses reads the RSS with a real feed parser and checks the
// elements RSS 2.0 requires of a channel and an item.
func TestRSSParses(t *testing.T) {
	b, err := feed.RSS(sample())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := gofeed.NewParser().ParseString(string(b))
	if err != nil {
		t.Fatalf("gofeed: %v\n%s", err, b)
	}
	if parsed.FeedType != "rss" || parsed.FeedVersion != "2.0" {
		t.Errorf("parsed as %s %s", parsed.FeedType, parsed.FeedVersion)
	}
	if parsed.Title != "The Daily Test" || parsed.Link != "https://news.example/" || parsed.Description != "News & more <for> testers" || parsed.Language != "en" {
		t.Errorf("channel: %+v", parsed)
	}
	if len(parsed.Items) != 2 {
		t.Fatalf("%d items", len(parsed.Items))
	}
	it := parsed.Items[0]
	if it.Title != "Ünïcode & <markup> headline" || it.Link != "https://news.example/articles/a" || it.GUID != it.Link ||
		!it.PublishedParsed.Equal(when) || len(it.Categories) != 2 || len(it.Authors) != 1 || it.Authors[0].Name != "Ana" {
		t.Errorf("item: %+v", it)
	}
	// The spec's required elements, by the letter.
	var doc struct {
		Version string `xml:"version,attr"`
		Channel struct {
			Title string `xml:"title"`
			// <link> and <atom:link> share a local name: tell them apart
			// by namespace.
			Links []struct {
				XMLName xml.Name
				Href    string `xml:"href,attr"`
				Rel     string `xml:"rel,attr"`
				Value   string `xml:",chardata"`
			} `xml:"link"`
			Description string `xml:"description"`
			Items       []struct {
				Title   string `xml:"title"`
				Link    string `xml:"link"`
				PubDate string `xml:"pubDate"`
				GUID    struct {
					Perma string `xml:"isPermaLink,attr"`
					Value string `xml:",chardata"`
				} `xml:"guid"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	link, self := "", ""
	for _, l := range doc.Channel.Links {
		switch l.XMLName.Space {
		case "":
			link = l.Value
		case "http://www.w3.org/2005/Atom":
			if l.Rel == "self" {
				self = l.Href
			}
		}
	}
	if doc.Version != "2.0" || doc.Channel.Title == "" || link != "https://news.example/" || doc.Channel.Description == "" {
		t.Errorf("channel lacks a required element: %+v", doc)
	}
	if self != "https://news.example/feed.xml" {
		t.Errorf("atom:link self: %+v", doc.Channel.Links)
	}
	for _, it := range doc.Channel.Items {
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil || it.Title == "" || it.GUID.Perma != "true" {
			t.Errorf("item %+v: %v", it, err)
		}
	}
}

// TestAtomParses reads the Atom with a real parser and checks RFC 4287's
// required elements: feed id, title, updated, an author; entry id, title,
// updated, and a link.
func TestAtomParses(t *testing.T) {
	b, err := feed.Atom(sample())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := gofeed.NewParser().ParseString(string(b))
	if err != nil {
		t.Fatalf("gofeed: %v\n%s", err, b)
	}
	if parsed.FeedType != "atom" || parsed.Title != "The Daily Test" || !parsed.UpdatedParsed.Equal(when.Add(time.Hour)) {
		t.Errorf("feed: %s %q %v", parsed.FeedType, parsed.Title, parsed.UpdatedParsed)
	}
	if len(parsed.Items) != 2 || parsed.Items[0].Title != "Ünïcode & <markup> headline" || parsed.Items[0].Link != "https://news.example/articles/a" {
		t.Fatalf("entries: %+v", parsed.Items)
	}
	var doc struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ID == "" || doc.Title == "" || len(doc.Author) != 1 || doc.Author[0].Name == "" {
		t.Errorf("feed lacks a required element: %+v", doc)
	}
	if _, err := time.Parse(time.RFC3339, doc.Updated); err != nil {
		t.Error(err)
	}
	self := false
	for _, l := range doc.Links {
		self = self || (l.Rel == "self" && l.Href == "https://news.example/feed.xml")
	}
	if !self {
		t.Errorf("no self link: %+v", doc.Links)
	}
	for _, e := range doc.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || e.Title == "" || len(e.Link) == 0 {
			t.Errorf("entry %+v: %v", e, err)
		}
	}
}

func TestEmptyFeedIsValid(t *testing.T) {
	f := sample()
	f.Items = nil
	f.Fallback = time.Unix(0, 0)
	for name, write := range map[string]func(feed.Feed) ([]byte, error){"rss": feed.RSS, "atom": feed.Atom} {
		b, err := write(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(string(b), "0001-01-01") {
			t.Errorf("%s dated year 1", name)
		}
	}
}
