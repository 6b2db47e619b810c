package main

import (
	"testing"
	"time"
)

// TestEmbeddedNATSSync: NEWSROOM_NATS_SYNC=always makes the all-in-one's
// embedded server fsync every JetStream write before its ack (the
// durability profile of deploy/nats/durable.conf); an interval sets the
// background sync; anything else is refused.
func TestEmbeddedNATSSync(t *testing.T) {
	for _, tc := range []struct {
		value    string
		always   bool
		interval time.Duration
	}{
		{"always", true, 0},
		{"ALWAYS", true, 0},
		{"10s", false, 10 * time.Second},
		{"", false, 0},
	} {
		t.Run(tc.value, func(t *testing.T) {
			env := map[string]string{"NEWSROOM_NATS_SYNC": tc.value, "NEWSROOM_DATA_DIR": t.TempDir()}
			ns, err := startEmbedded(parseConfig(func(k string) string { return env[k] }))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
			js := ns.JetStreamConfig()
			if js == nil {
				t.Fatal("JetStream is not enabled")
			}
			if js.SyncAlways != tc.always {
				t.Errorf("sync always %v, want %v", js.SyncAlways, tc.always)
			}
			if tc.interval != 0 && js.SyncInterval != tc.interval {
				t.Errorf("sync interval %v, want %v", js.SyncInterval, tc.interval)
			}
		})
	}
	for _, bad := range []string{"sometimes", "-1s", "0s"} {
		env := map[string]string{"NEWSROOM_NATS_SYNC": bad, "NEWSROOM_DATA_DIR": t.TempDir()}
		if ns, err := startEmbedded(parseConfig(func(k string) string { return env[k] })); err == nil {
			ns.Shutdown()
			t.Errorf("NEWSROOM_NATS_SYNC=%q accepted", bad)
		}
	}
}
