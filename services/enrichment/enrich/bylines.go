package enrich

import (
	"slices"
	"strings"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich/byline"
	"github.com/newsroom/newsroom/services/enrichment/enrich/htmlpage"
)

// candidate is one credit found somewhere in the input.
type candidate struct {
	credit  byline.Credit
	source  string
	rule    string
	conf    float64
	excerpt string
	// dist is the distance of a visible credit from the page's h1; -1
	// when unknown.
	dist int
}

// Source strengths: what a page says about itself in structured data is
// the best witness; a visible byline near the headline comes next.
const (
	confJSONLD  = 0.9
	confMeta    = 0.8
	confVisible = 0.7
)

func (s *story) bylines() {
	a := s.a
	if s.editorBylines {
		for _, b := range a.Bylines {
			if ag, ok := byline.Agency(b.Name); ok && !b.IsOrganization {
				b.IsOrganization = true
				if b.Organization == "" {
					b.Organization = ag
				}
			}
			if b.Slug == "" && !b.IsOrganization {
				b.Slug = byline.Key(b.Name)
			}
		}
		return
	}
	var structured, meta, visible []candidate
	// staffOnly: the page's own metadata credits a desk ("Staff"), so a
	// name elsewhere on the page is not this story's author.
	staffOnly := false
	if s.page != nil {
		named := false
		for _, pc := range s.page.Credits {
			if pc.Source == "jsonld" || pc.Source == "meta" {
				if byline.IsGeneric(pc.Raw) {
					staffOnly = true
				} else if len(byline.Split(pc.Raw)) > 0 {
					named = true
				}
			}
		}
		staffOnly = staffOnly && !named
		for _, pc := range s.page.Credits {
			for _, c := range creditsOf(pc) {
				if s.isPublisher(c.credit.Name) {
					continue
				}
				switch pc.Source {
				case "jsonld":
					structured = append(structured, c)
				case "meta":
					meta = append(meta, c)
				default:
					visible = append(visible, c)
				}
			}
		}
	}
	var chosen []candidate
	switch {
	case len(structured) > 0 && nearSuperset(visible, structured):
		// The byline the reader sees names everyone structured data names,
		// and more: structured data lists only the first author.
		chosen = visibleChoice(visible)
	case len(structured) > 0 && len(meta) > 0 && strictSubset(meta, structured):
		// JSON-LD author lists are often padded with editors and
		// contributors; the page's own author tags naming fewer of the same
		// people are the byline.
		chosen = meta
	case len(structured) > 0:
		chosen = structured
	case len(meta) > 0:
		chosen = metaChoice(meta)
	case len(visible) > 0 && !staffOnly:
		chosen = visibleChoice(visible)
	}
	// Lines of the text itself: a "By" line, then a bio line.
	if len(chosen) == 0 {
		for _, c := range s.credits {
			if c.rule == "by-line" {
				chosen = append(chosen, c)
			}
		}
	}
	if len(chosen) == 0 {
		for _, c := range s.credits {
			if c.rule == "bio-line" {
				chosen = append(chosen, c)
			}
		}
	}
	chosen = uniqueCandidates(chosen)
	if provenanceOnly(chosen, slices.Concat(visible, s.credits)) {
		// A wire agency named only in the page's metadata, with no person
		// credited and nothing on the page a reader sees, is where the
		// story came from, not its byline: kept as evidence, not printed.
		names := make([]string, 0, len(chosen))
		for _, c := range chosen {
			names = append(names, c.credit.Name)
		}
		a.Evidence["source_credit"] = ev(chosen[0].source, "agency-in-metadata-only", chosen[0].conf, strings.Join(names, ", "))
		chosen = nil
	}
	// Every other witness that names the same person confirms the choice
	// and may add an organisation or a bio.
	others := slices.Concat(structured, meta, visible, s.credits)
	for _, c := range chosen {
		b := &newsroomv1.Byline{Name: c.credit.Name, Organization: c.credit.Organization, IsOrganization: c.credit.IsOrganization, Bio: c.credit.Bio}
		conf := c.conf
		key := byline.Key(c.credit.Name)
		confirmed := map[string]bool{c.source: true}
		for _, o := range others {
			if byline.Key(o.credit.Name) != key {
				continue
			}
			if !confirmed[o.source] {
				confirmed[o.source] = true
				conf += (1 - conf) * 0.3
			}
			if b.Organization == "" && o.credit.Organization != "" {
				b.Organization = o.credit.Organization
			}
			if b.Bio == "" && o.credit.Bio != "" {
				b.Bio = o.credit.Bio
			}
			// The fullest spelling wins: "Emmanuel Alejandro Rondón" over
			// "Emmanuel Rondón".
			if len([]rune(o.credit.Name)) > len([]rune(b.Name)) && o.source != "bio-line" {
				b.Name = o.credit.Name
			}
		}
		if !b.IsOrganization {
			b.Slug = byline.Key(b.Name)
		}
		sources := make([]string, 0, len(confirmed))
		for src := range confirmed {
			sources = append(sources, src)
		}
		slices.Sort(sources)
		rule := c.rule
		if len(sources) > 1 {
			rule += "; confirmed by " + strings.Join(sources, ", ")
		}
		b.Evidence = ev(c.source, rule, min(conf, 0.99), c.excerpt)
		a.Bylines = append(a.Bylines, b)
	}
}

// provenanceOnly: every chosen credit is an agency from structured data or
// meta tags, and no visible or textual credit names any of them.
func provenanceOnly(chosen, seen []candidate) bool {
	if len(chosen) == 0 {
		return false
	}
	for _, c := range chosen {
		if !c.credit.IsOrganization || (c.source != "jsonld" && c.source != "meta") {
			return false
		}
		key := byline.Key(c.credit.Name)
		for _, o := range seen {
			if byline.Key(o.credit.Name) == key {
				return false
			}
		}
	}
	return true
}

// nearSuperset reports whether the visible byline nearest the headline
// names every structured author and at least one more.
func nearSuperset(visible, structured []candidate) bool {
	if len(visible) == 0 {
		return false
	}
	near := visibleChoice(visible)
	if len(near) == 0 || near[0].dist < 0 || near[0].dist > 20 || visibleTier(near[0].rule) > 1 {
		return false
	}
	// Only a byline that links each name to an author page, or joins them
	// with "and", is trusted to add names.
	for _, c := range near {
		if c.rule != "class-links" && !strings.Contains(c.excerpt, " and ") && !strings.Contains(c.excerpt, " & ") {
			return false
		}
	}
	return strictSubset(structured, near)
}

// creditsOf normalises one page credit.
func creditsOf(pc htmlpage.Credit) []candidate {
	var conf float64
	switch pc.Source {
	case "jsonld":
		conf = confJSONLD
	case "meta":
		conf = confMeta
	default:
		conf = confVisible
	}
	var out []candidate
	if pc.Source != "jsonld" && pc.Source != "meta" {
		// An author box holding a bio line: "Jane Doe is a reporter at ...".
		if c, ok := byline.Bio(pc.Raw); ok {
			return []candidate{{credit: c, source: pc.Source, rule: pc.Rule + "+bio", conf: conf, excerpt: pc.Raw, dist: pc.AfterHeadline}}
		}
	}
	for _, c := range byline.Split(pc.Raw) {
		if pc.Org && !c.IsOrganization {
			// The page typed it as an organisation; a name-shaped one is
			// kept as an organisation credit.
			c.IsOrganization = true
			c.Organization = c.Name
		}
		if c.Bio == "" && pc.Bio != "" && len(pc.Bio) < 600 {
			c.Bio = pc.Bio
		}
		out = append(out, candidate{credit: c, source: pc.Source, rule: pc.Rule, conf: conf, excerpt: pc.Raw, dist: pc.AfterHeadline})
	}
	return out
}

// metaChoice: meta tags disagree less often than they repeat; take the
// names of the first author tag.
func metaChoice(cs []candidate) []candidate {
	first := cs[0].rule
	var out []candidate
	for _, c := range cs {
		if c.rule == first {
			out = append(out, c)
		}
	}
	return out
}

// visibleTier ranks visible credits: an element the page marks as its
// byline beats a "By" text, which beats a bare link to an author page.
func visibleTier(rule string) int {
	switch strings.TrimSuffix(rule, "+bio") {
	case "class", "class-links", "itemprop=author":
		return 0
	case "by-prefix", "rel=author":
		return 1
	case "author-link":
		return 2
	}
	return 3
}

// visibleChoice takes, from the strongest kind of visible credit, the one
// nearest the headline, with any other credit of that kind right beside it
// (several authors in separate links).
func visibleChoice(cs []candidate) []candidate {
	tier := 99
	for _, c := range cs {
		tier = min(tier, visibleTier(c.rule))
	}
	var same []candidate
	for _, c := range cs {
		if visibleTier(c.rule) == tier {
			same = append(same, c)
		}
	}
	cs = same
	best := -1
	for i, c := range cs {
		if c.dist < 0 {
			continue
		}
		if best < 0 || c.dist < cs[best].dist {
			best = i
		}
	}
	if best < 0 {
		return cs[:1]
	}
	var out []candidate
	for _, c := range cs {
		if c.dist >= 0 && c.dist <= cs[best].dist+12 && c.dist*2 <= cs[best].dist*2+24 {
			out = append(out, c)
		}
	}
	return out
}

func uniqueCandidates(cs []candidate) []candidate {
	seen := map[string]bool{}
	var out []candidate
	for _, c := range cs {
		k := byline.Key(c.credit.Name)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}

// isPublisher reports a credit that names the publication itself ("The
// Daily Planet" on dailyplanet.co.uk, "Jane Doe" on janedoe.com).
func (s *story) isPublisher(name string) bool {
	if s.page == nil {
		return false
	}
	nk := foldKey(name)
	nk = strings.TrimPrefix(nk, "the")
	if len(nk) < 3 {
		return false
	}
	for _, p := range s.page.Publishers {
		pk := strings.TrimPrefix(foldKey(p), "the")
		pk = strings.TrimSuffix(pk, "com")
		if pk == "" {
			continue
		}
		if nk == pk || strings.TrimSuffix(nk, "com") == pk {
			return true
		}
	}
	return false
}

// strictSubset reports whether every name in a is in b, and b has more.
func strictSubset(a, b []candidate) bool {
	in := map[string]bool{}
	for _, c := range b {
		in[byline.Key(c.credit.Name)] = true
	}
	as := map[string]bool{}
	for _, c := range a {
		k := byline.Key(c.credit.Name)
		if !in[k] {
			return false
		}
		as[k] = true
	}
	return len(as) < len(in)
}
