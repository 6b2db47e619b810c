// Package natstest starts an embedded nats-server with JetStream for a test:
// a real server on a free loopback port, its storage in t.TempDir(), shut
// down by t.Cleanup.
package natstest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/natsembed"
)

// Server starts a JetStream server for t. dir may be "" for a fresh
// t.TempDir(); pass the same dir to a second Server to test restarts.
func Server(t testing.TB, dir string) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := natsembed.Start(natsembed.Options{StoreDir: dir, Listen: true, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect opens a named connection to s, closed by t.Cleanup.
func Connect(t testing.TB, s *server.Server, name string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.Name(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
