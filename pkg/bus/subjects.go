// Package bus is newsroom's JetStream platform: the NEWS stream and its
// subjects, publishing with deduplication and trace context, and a consumer
// runner in the shape of go-kit's NATS subscriber (decode → endpoint →
// encode) that owns the mapping from results to ack, nak and term plus a dead
// letter. Services never call Ack, Nak or Term themselves.
package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Stream and subject names. Subjects are intent first, identifier last.
const (
	StreamName    = "NEWS"
	DLQStreamName = "NEWS_DLQ"

	subjectPrefix = "news.article."
	dlqPrefix     = "news.dlq."
)

// Events of an article's life, as the third token of its subject.
const (
	EventSubmitted = "submitted"
	EventEnriched  = "enriched"
	EventRendered  = "rendered"
	EventShared    = "shared"
	EventRetracted = "retracted"
	// EventScheduled: ingest holds a revision until its publish or embargo
	// time (an ArticleSubmitted, published as submitted at release). Only
	// ingest consumes it.
	EventScheduled = "scheduled"
	// EventWithdrawn: socialshare dealt with every post of a retracted
	// article (an ArticleShared holding each network's post, deleted or
	// not). Only the status view consumes it.
	EventWithdrawn = "withdrawn"
)

// Subject is the subject of one event of one article.
func Subject(event, articleID string) string {
	return subjectPrefix + event + "." + articleID
}

// EventSubjects is the filter for every article's event of one kind.
func EventSubjects(event string) string { return subjectPrefix + event + ".>" }

// AllArticleSubjects matches every article event.
const AllArticleSubjects = subjectPrefix + ">"

// DLQSubject is where a service's dead letters go.
func DLQSubject(service string) string { return dlqPrefix + service }

// ParseSubject splits an article subject into its event and article id.
func ParseSubject(subject string) (event, articleID string, ok bool) {
	rest, found := strings.CutPrefix(subject, subjectPrefix)
	if !found {
		return "", "", false
	}
	event, articleID, found = strings.Cut(rest, ".")
	if !found || event == "" || ValidateArticleID(articleID) != nil {
		return "", "", false
	}
	return event, articleID, true
}

// MaxArticleIDLen bounds ids so subjects and keys stay short.
const MaxArticleIDLen = 128

// articleIDShape is ^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$ without a regexp:
// every event a consumer takes checks its subject's id.
func articleIDShape(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0 && i < len(id)-1:
		default:
			return false
		}
	}
	return id != ""
}

// ValidateArticleID accepts only ids that are safe as one subject token, a KV
// key, an object name and a URL path segment: lower-case letters, digits,
// '-' and '_'. That rules out '.', '*', '>', whitespace and line breaks, so an
// id can never inject subject tokens or header lines.
func ValidateArticleID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("article id is empty")
	case len(id) > MaxArticleIDLen:
		return fmt.Errorf("article id is longer than %d bytes", MaxArticleIDLen)
	case !articleIDShape(id):
		return fmt.Errorf("article id %q may hold only a-z, 0-9, '-' and '_', and must start and end with a letter or digit", id)
	}
	return nil
}

// MsgID is the Nats-Msg-Id of a stage's event for one revision: the same
// article, revision and stage always give the same id, so a stage that
// publishes again after a crash is deduplicated by the stream.
func MsgID(articleID string, revision int64, stage string) string {
	h := sha256.New()
	h.Write([]byte(articleID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(revision, 10)))
	h.Write([]byte{0})
	h.Write([]byte(stage))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
