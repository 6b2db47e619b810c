// Package feed writes a listing's syndication feeds: RSS 2.0 and Atom
// (RFC 4287), with the elements each specification requires and the
// self links feed validators expect.
package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"
)

// Feed is one listing as a feed.
type Feed struct {
	Title       string
	Description string
	// Link is the listing page; Self is the feed's own URL.
	Link     string
	Self     string
	Language string
	// Updated is the newest item's time, or the zero time for an empty feed
	// (which then uses Fallback).
	Updated  time.Time
	Fallback time.Time
	// Author names the feed's author: the publication.
	Author string
	Items  []Item
}

// Item is one article.
type Item struct {
	ID         string
	URL        string
	Title      string
	Summary    string
	Published  time.Time
	Updated    time.Time
	Authors    []Author
	Categories []string
}

// Author of an item.
type Author struct {
	Name string
	URL  string
}

const (
	nsAtom = "http://www.w3.org/2005/Atom"
	nsDC   = "http://purl.org/dc/elements/1.1/"
)

type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	DC      string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Self          atomLink  `xml:"atom:link"`
	Language      string    `xml:"language,omitempty"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Generator     string    `xml:"generator"`
	Items         []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description,omitempty"`
	Creators    []string `xml:"dc:creator"`
	Categories  []string `xml:"category"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// RSS writes the feed as RSS 2.0.
func RSS(f Feed) ([]byte, error) {
	ch := rssChannel{
		Title:         f.Title,
		Link:          f.Link,
		Description:   f.Description,
		Self:          atomLink{Href: f.Self, Rel: "self", Type: "application/rss+xml"},
		Language:      f.Language,
		LastBuildDate: f.updated().Format(time.RFC1123Z),
		Generator:     "newsroom",
	}
	if ch.Description == "" {
		ch.Description = f.Title
	}
	for _, it := range f.Items {
		ri := rssItem{
			Title:       it.Title,
			Link:        it.URL,
			Description: it.Summary,
			Categories:  it.Categories,
			GUID:        rssGUID{IsPermaLink: true, Value: it.URL},
			PubDate:     it.Published.UTC().Format(time.RFC1123Z),
		}
		for _, a := range it.Authors {
			ri.Creators = append(ri.Creators, a.Name)
		}
		ch.Items = append(ch.Items, ri)
	}
	return marshal(rss{Version: "2.0", Atom: nsAtom, DC: nsDC, Channel: ch})
}

type atomFeed struct {
	XMLName  xml.Name    `xml:"feed"`
	NS       string      `xml:"xmlns,attr"`
	Lang     string      `xml:"xml:lang,attr,omitempty"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomPerson  `xml:"author"`
	Entries  []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Link       atomLink       `xml:"link"`
	Authors    []atomPerson   `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// Atom writes the feed as Atom 1.0. Entry ids are the article URLs, which
// never change for an article.
func Atom(f Feed) ([]byte, error) {
	af := atomFeed{
		NS:       nsAtom,
		Lang:     f.Language,
		ID:       f.Self,
		Title:    f.Title,
		Subtitle: f.Description,
		Updated:  f.updated().Format(time.RFC3339),
		Links: []atomLink{
			{Href: f.Self, Rel: "self", Type: "application/atom+xml"},
			{Href: f.Link, Rel: "alternate", Type: "text/html"},
		},
		Author: atomPerson{Name: f.Author},
	}
	for _, it := range f.Items {
		e := atomEntry{
			ID:        it.URL,
			Title:     it.Title,
			Updated:   it.Updated.UTC().Format(time.RFC3339),
			Published: it.Published.UTC().Format(time.RFC3339),
			Link:      atomLink{Href: it.URL, Rel: "alternate", Type: "text/html"},
		}
		for _, a := range it.Authors {
			e.Authors = append(e.Authors, atomPerson{Name: a.Name, URI: a.URL})
		}
		for _, c := range it.Categories {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		if it.Summary != "" {
			e.Summary = &atomText{Type: "text", Value: it.Summary}
		}
		af.Entries = append(af.Entries, e)
	}
	return marshal(af)
}

func (f Feed) updated() time.Time {
	u := f.Updated
	for _, it := range f.Items {
		if it.Updated.After(u) {
			u = it.Updated
		}
	}
	if u.IsZero() {
		u = f.Fallback
	}
	return u.UTC()
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
