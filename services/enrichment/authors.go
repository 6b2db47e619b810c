package enrichment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
)

// Author is one person in the registry (bucket enrichment_authors, key =
// slug). The record only grows: spellings are added, a missing bio or
// organisation is filled, the fullest spelling becomes the name. Merging is
// order-independent, so two instances and any redelivery converge on the
// same record, and an unchanged record is never written again.
type Author struct {
	Slug         string   `json:"slug"`
	Name         string   `json:"name"`
	Spellings    []string `json:"spellings"`
	Organization string   `json:"organization,omitempty"`
	Bio          string   `json:"bio,omitempty"`
	// FirstArticle is the article the person was first seen in.
	FirstArticle string `json:"first_article,omitempty"`
}

// maxSpellings bounds a record.
const maxSpellings = 20

// Registry matches bylines to authors across spellings: case, diacritics,
// middle names and initials (byline.Key).
type Registry struct {
	kv        jetstream.KeyValue
	publicURL string
}

// NewRegistry uses kv; publicURL is the site's base for profile URLs.
func NewRegistry(kv jetstream.KeyValue, publicURL string) *Registry {
	return &Registry{kv: kv, publicURL: strings.TrimRight(publicURL, "/")}
}

// AuthorSlug is the registry key of a name: byline.Key, or for a name in a
// script the slug cannot spell, a hash of its folded form.
func AuthorSlug(name string) string {
	if k := byline.Key(name); k != "" {
		return k
	}
	sum := sha256.Sum256([]byte(byline.Normalized(name)))
	return "a-" + hex.EncodeToString(sum[:6])
}

// ProfileURL is the author's page on the site.
func (r *Registry) ProfileURL(slug string) string {
	return r.publicURL + "/authors/" + slug
}

// Resolve records every person among bylines and fills their slug,
// profile URL and (when the article has none) bio from the registry.
// Organisation credits are not people and are left alone.
func (r *Registry) Resolve(ctx context.Context, articleID string, bylines []*newsroomv1.Byline) error {
	for _, b := range bylines {
		if b.IsOrganization || strings.TrimSpace(b.Name) == "" {
			continue
		}
		rec, err := r.record(ctx, articleID, b)
		if err != nil {
			return fmt.Errorf("author registry, %q: %w", b.Name, err)
		}
		b.Slug = rec.Slug
		b.Url = r.ProfileURL(rec.Slug)
		if b.Bio == "" {
			b.Bio = rec.Bio
		}
		if b.Organization == "" {
			b.Organization = rec.Organization
		}
	}
	return nil
}

// record creates or merges the author's record with compare-and-set,
// retrying when another instance wrote in between.
func (r *Registry) record(ctx context.Context, articleID string, b *newsroomv1.Byline) (Author, error) {
	slug := AuthorSlug(b.Name)
	seen := Author{Slug: slug, Name: b.Name, Spellings: []string{b.Name}, Organization: b.Organization, Bio: b.Bio, FirstArticle: articleID}
	for attempt := 0; attempt < 8; attempt++ {
		entry, err := r.kv.Get(ctx, slug)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			data, _ := json.Marshal(seen)
			if _, err := r.kv.Create(ctx, slug, data); err != nil {
				if errors.Is(err, jetstream.ErrKeyExists) {
					continue
				}
				return Author{}, err
			}
			return seen, nil
		case err != nil:
			return Author{}, err
		}
		var rec Author
		if err := json.Unmarshal(entry.Value(), &rec); err != nil || rec.Slug != slug {
			// A damaged record is rebuilt from what this article says.
			rec = Author{Slug: slug}
		}
		merged, changed := merge(rec, seen)
		if !changed {
			return merged, nil
		}
		data, _ := json.Marshal(merged)
		if _, err := r.kv.Update(ctx, slug, data, entry.Revision()); err != nil {
			if isWrongRevision(err) {
				continue
			}
			return Author{}, err
		}
		return merged, nil
	}
	return Author{}, fmt.Errorf("record %s: too many concurrent updates", slug)
}

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists) || strings.Contains(err.Error(), "wrong last sequence")
}

// merge adds what seen knows to rec. The result does not depend on the
// order merges happen in, except that the first bio and organisation
// recorded stay.
func merge(rec, seen Author) (Author, bool) {
	out := rec
	out.Spellings = slices.Clone(rec.Spellings)
	changed := false
	for _, s := range seen.Spellings {
		if !slices.Contains(out.Spellings, s) && len(out.Spellings) < maxSpellings {
			out.Spellings = append(out.Spellings, s)
			changed = true
		}
	}
	slices.Sort(out.Spellings)
	if fuller(seen.Name, out.Name) {
		out.Name = seen.Name
		changed = true
	}
	if out.Bio == "" && seen.Bio != "" {
		out.Bio = seen.Bio
		changed = true
	}
	if out.Organization == "" && seen.Organization != "" {
		out.Organization = seen.Organization
		changed = true
	}
	if out.FirstArticle == "" && seen.FirstArticle != "" {
		out.FirstArticle = seen.FirstArticle
		changed = true
	}
	return out, changed
}

// fuller reports whether a is a fuller spelling than b: more letters, and
// on a tie the one with diacritics, then the lexically smaller.
func fuller(a, b string) bool {
	if b == "" {
		return a != ""
	}
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	if la != lb {
		return la > lb
	}
	da, db := a != byline.Fold(a), b != byline.Fold(b)
	if da != db {
		return da
	}
	return a < b
}

// Lookup returns the registry record for a slug.
func (r *Registry) Lookup(ctx context.Context, slug string) (Author, error) {
	entry, err := r.kv.Get(ctx, slug)
	if err != nil {
		return Author{}, err
	}
	var rec Author
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		return Author{}, fmt.Errorf("author %s: %w", slug, err)
	}
	return rec, nil
}
