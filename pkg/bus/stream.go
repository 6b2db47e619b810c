package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions are the deployment-dependent parts of the streams: one
// replica on a laptop, three on a cluster.
type StreamOptions struct {
	Replicas int
	// MaxBytes caps the NEWS stream; 0 means unlimited. The stream discards
	// new messages when full, so a publish fails (ingest answers 503)
	// instead of silently dropping old history.
	MaxBytes int64
	// Storage defaults to file storage.
	Memory bool
	// DuplicateWindow for Nats-Msg-Id deduplication; defaults to 10 minutes.
	DuplicateWindow time.Duration
}

// NewsStreamConfig is the article log.
func NewsStreamConfig(o StreamOptions) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        StreamName,
		Description: "newsroom article log: every event of every article",
		Subjects:    []string{AllArticleSubjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    -1,
		MaxMsgs:     -1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(o.Replicas, 1),
		Duplicates:  o.DuplicateWindow,
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = 10 * time.Minute
	}
	if o.MaxBytes > 0 {
		cfg.MaxBytes = o.MaxBytes
	}
	if o.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// DLQStreamConfig holds dead letters of every service.
func DLQStreamConfig(o StreamOptions) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        DLQStreamName,
		Description: "newsroom dead letters: messages a service could not process, with the reason in headers",
		Subjects:    []string{dlqPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxBytes:    -1,
		MaxMsgs:     -1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(o.Replicas, 1),
		Duplicates:  10 * time.Minute,
	}
	if o.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// EnsureStreams creates or updates the NEWS and dead-letter streams. It is
// safe to call from every service at every start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	for _, cfg := range []jetstream.StreamConfig{NewsStreamConfig(o), DLQStreamConfig(o)} {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// ConsumerSpec describes a service's durable consumer on NEWS.
type ConsumerSpec struct {
	// Durable is the consuming service's name.
	Durable        string
	FilterSubjects []string
	// AckWait before redelivery of a message that was neither acked nor
	// marked in progress; defaults to 30s.
	AckWait time.Duration
	// MaxDeliver attempts before a message goes to the dead letters;
	// defaults to 5.
	MaxDeliver int
	// MaxAckPending bounds messages in flight; defaults to 1,000.
	MaxAckPending int
}

func (s ConsumerSpec) withDefaults() ConsumerSpec {
	if s.AckWait == 0 {
		s.AckWait = 30 * time.Second
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = 5
	}
	if s.MaxAckPending == 0 {
		s.MaxAckPending = 1000
	}
	return s
}

// Config is the JetStream consumer configuration for the spec.
func (s ConsumerSpec) Config() jetstream.ConsumerConfig {
	s = s.withDefaults()
	return jetstream.ConsumerConfig{
		Durable:        s.Durable,
		Description:    "newsroom " + s.Durable,
		FilterSubjects: s.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        s.AckWait,
		MaxDeliver:     s.MaxDeliver,
		MaxAckPending:  s.MaxAckPending,
	}
}

// EnsureConsumer creates or updates the durable consumer. Every instance of
// a service calls it; they share the consumer and so split its messages.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec) (jetstream.Consumer, error) {
	cons, err := js.CreateOrUpdateConsumer(ctx, StreamName, spec.Config())
	if err != nil {
		return nil, fmt.Errorf("ensure consumer %s: %w", spec.Durable, err)
	}
	return cons, nil
}

// CheckReady reports whether the streams and the named consumer exist, for
// readiness probes.
func CheckReady(ctx context.Context, js jetstream.JetStream, durable string) error {
	if _, err := js.Stream(ctx, StreamName); err != nil {
		return fmt.Errorf("stream %s: %w", StreamName, err)
	}
	if durable == "" {
		return nil
	}
	if _, err := js.Consumer(ctx, StreamName, durable); err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("consumer %s not found", durable)
		}
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	return nil
}
