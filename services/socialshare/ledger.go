package socialshare

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
)

// Entry is the ledger's record of one post of an article on one network:
// the article's post, or a correction's reply under it. It is written
// (pending, with its idempotency key) before the network is called.
type Entry struct {
	ArticleID string `json:"article_id"`
	Network   string `json:"network"`
	// Kind is "post" or "correction".
	Kind     string `json:"kind"`
	Revision int64  `json:"revision"`
	Status   string `json:"status"`
	Text     string `json:"text"`
	Link     string `json:"link"`
	// Post is the composed post, sent as is on every attempt.
	Post           *compose.Post `json:"post,omitempty"`
	IdempotencyKey string        `json:"idempotency_key"`
	CreatedAt      time.Time     `json:"created_at"`
	// NotBefore: publication, embargo and the network's delay.
	NotBefore     time.Time `json:"not_before,omitzero"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	RemoteID      string    `json:"remote_id,omitempty"`
	RemoteURL     string    `json:"remote_url,omitempty"`
	RemoteCID     string    `json:"remote_cid,omitempty"`
	// ReplyTo is the remote post a correction answers.
	ReplyTo      *networks.Remote `json:"reply_to,omitempty"`
	Attempts     int              `json:"attempts"`
	LastError    string           `json:"last_error,omitempty"`
	DeadLettered bool             `json:"dead_lettered,omitempty"`
	UpdatedAt    time.Time        `json:"updated_at"`
}

// Ledger statuses.
const (
	StatusPending = "pending"
	StatusPosted  = "posted"
	StatusFailed  = "failed"
	StatusDryRun  = "dry_run"
	StatusSkipped = "skipped"
	// StatusDeleted: retracted and removed from the network.
	StatusDeleted = "deleted"
	// StatusDeleteFailed: retracted, but the network would not delete it;
	// LastError says why.
	StatusDeleteFailed = "delete_failed"
	// StatusRetracted: retracted with nothing on the network to delete
	// (dry run, never posted).
	StatusRetracted = "retracted"
)

// Kinds of entry.
const (
	KindPost       = "post"
	KindCorrection = "correction"
)

func (e Entry) terminal() bool { return e.Status != StatusPending }

func (e Entry) remote() networks.Remote {
	return networks.Remote{ID: e.RemoteID, URL: e.RemoteURL, CID: e.RemoteCID}
}

func (e Entry) share() *newsroomv1.Share {
	return &newsroomv1.Share{Network: e.Network, Status: shareStatus(e.Status), Text: e.Text, Link: e.Link,
		RemoteId: e.RemoteID, RemoteUrl: e.RemoteURL, Attempts: int32(e.Attempts), LastError: e.LastError}
}

func shareStatus(s string) newsroomv1.ShareStatus {
	switch s {
	case StatusDryRun:
		return newsroomv1.ShareStatus_SHARE_STATUS_DRY_RUN
	case StatusPosted:
		return newsroomv1.ShareStatus_SHARE_STATUS_POSTED
	case StatusFailed, StatusDeleteFailed:
		return newsroomv1.ShareStatus_SHARE_STATUS_FAILED
	case StatusSkipped:
		return newsroomv1.ShareStatus_SHARE_STATUS_SKIPPED
	case StatusDeleted, StatusRetracted:
		return newsroomv1.ShareStatus_SHARE_STATUS_DELETED
	case StatusPending:
		return newsroomv1.ShareStatus_SHARE_STATUS_PENDING
	}
	return newsroomv1.ShareStatus_SHARE_STATUS_UNSPECIFIED
}

// Ledger keys: "<article>.<network>" for the post,
// "<article>.<network>.c-<hash>" for a correction's reply.
func postKey(id, network string) string { return id + "." + network }

func correctionKey(id, network, note string) string {
	return postKey(id, network) + ".c-" + hash(note)[:12]
}

// idempotencyKey is stable per article, network and kind of post, so
// every attempt and every instance sends the same one.
func idempotencyKey(ledgerKey string) string { return "newsroom-" + hash(ledgerKey)[:32] }

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

type ledger struct{ kv jetstream.KeyValue }

// get returns the entry and its revision, found false when absent.
func (l ledger) get(ctx context.Context, key string) (Entry, uint64, bool, error) {
	cur, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, 0, false, nil
	}
	if err != nil {
		return Entry{}, 0, false, fmt.Errorf("ledger %s: %w", key, err)
	}
	var e Entry
	if err := json.Unmarshal(cur.Value(), &e); err != nil {
		return Entry{}, 0, false, fmt.Errorf("ledger %s: %w", key, err)
	}
	return e, cur.Revision(), true, nil
}

// errConflict: another writer changed the entry first.
var errConflict = errors.New("ledger entry changed concurrently")

// create stores a new entry; errConflict when one exists.
func (l ledger) create(ctx context.Context, key string, e Entry) (uint64, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	rev, err := l.kv.Create(ctx, key, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("ledger %s: %w", key, err)
	}
	return rev, nil
}

// update replaces the entry if it is still at rev.
func (l ledger) update(ctx context.Context, key string, e Entry, rev uint64) (uint64, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	next, err := l.kv.Update(ctx, key, data, rev)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, errConflict
		}
		return 0, fmt.Errorf("ledger %s: %w", key, err)
	}
	return next, nil
}

// keys lists an article's entry keys, corrections before their post so a
// retraction deletes replies first.
func (l ledger) keys(ctx context.Context, id string) ([]string, error) {
	lister, err := l.kv.ListKeysFiltered(ctx, id+".>")
	if err != nil {
		return nil, fmt.Errorf("ledger keys of %s: %w", id, err)
	}
	var keys []string
	seen := map[string]bool{}
	for k := range lister.Keys() {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if ci, cj := strings.Count(keys[i], "."), strings.Count(keys[j], "."); ci != cj {
			return ci > cj
		}
		return keys[i] < keys[j]
	})
	return keys, nil
}
