// Package natsembed runs a nats-server with JetStream inside the process:
// the all-in-one's default bus, and the server of every test.
package natsembed

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options for an embedded server.
type Options struct {
	// StoreDir holds JetStream's files; a restart on the same directory
	// keeps every stream, KV bucket and object.
	StoreDir string
	// Host and Port to listen on for other processes. Port -1 picks a free
	// port; Listen false serves only in-process connections.
	Listen bool
	Host   string
	Port   int
	// ServerName defaults to "newsroom".
	ServerName string
	// SyncAlways fsyncs every write before the PubAck, for deployments
	// that must survive power loss, not only process crashes.
	SyncAlways bool
	// SyncInterval is how often JetStream fsyncs otherwise (the server's
	// default, 2 minutes, when zero).
	SyncInterval time.Duration
	// HTTPPort serves the monitoring endpoints (/varz, /jsz); 0 disables.
	HTTPPort int
	// MaxPayload is the largest message, default DefaultMaxPayload: an
	// article revision travels as one message, and whole web pages
	// submitted to ingest run to a few megabytes.
	MaxPayload int32
}

// DefaultMaxPayload is 8 MiB (NATS' own default is 1 MiB).
const DefaultMaxPayload = 8 << 20

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	opts := &server.Options{
		ServerName:   o.ServerName,
		Host:         o.Host,
		Port:         o.Port,
		JetStream:    true,
		StoreDir:     o.StoreDir,
		SyncAlways:   o.SyncAlways,
		SyncInterval: o.SyncInterval,
		DontListen:   !o.Listen,
		NoSigs:       true,
		NoLog:        true,
		HTTPPort:     o.HTTPPort,
		MaxPayload:   o.MaxPayload,
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.ServerName == "" {
		opts.ServerName = "newsroom"
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if o.Listen && opts.Port == 0 {
		opts.Port = server.DEFAULT_PORT
	}
	if o.HTTPPort != 0 {
		opts.HTTPHost = opts.Host
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats-server: not ready after 30s (store %s)", o.StoreDir)
	}
	return s, nil
}

// ConnectOption connects a client to s in-process, without TCP, whether or
// not s also listens.
func ConnectOption(s *server.Server) nats.Option {
	return nats.InProcessServer(s)
}
