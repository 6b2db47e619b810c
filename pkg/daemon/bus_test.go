package daemon_test

import (
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/daemon"
)

func TestBusFromEnv(t *testing.T) {
	env := map[string]string{"NEWSROOM_REPLICAS": "3", "NEWSROOM_STREAM_MAX_BYTES": "50GB", "NEWSROOM_ACK_WAIT": "2s"}
	b, err := daemon.BusFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if b.Streams.Replicas != 3 || b.Streams.MaxBytes != 50<<30 || b.AckWait != 2*time.Second {
		t.Errorf("BusFromEnv = %+v", b)
	}
	if b, err := daemon.BusFromEnv(func(string) string { return "" }); err != nil || b != (daemon.BusSettings{}) {
		t.Errorf("empty environment: %+v %v", b, err)
	}
	for _, bad := range []map[string]string{
		{"NEWSROOM_REPLICAS": "0"}, {"NEWSROOM_REPLICAS": "7"}, {"NEWSROOM_REPLICAS": "three"},
		{"NEWSROOM_STREAM_MAX_BYTES": "lots"}, {"NEWSROOM_STREAM_MAX_BYTES": "0"}, {"NEWSROOM_STREAM_MAX_BYTES": "-5MB"},
		{"NEWSROOM_ACK_WAIT": "30"}, {"NEWSROOM_ACK_WAIT": "100ms"},
	} {
		if _, err := daemon.BusFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("BusFromEnv(%v) accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512": 512, "64K": 64 << 10, "64KB": 64 << 10, "10MiB": 10 << 20, "8MB": 8 << 20, "50gb": 50 << 30, "1T": 1 << 40, " 2 GB ": 2 << 30,
	} {
		if got, err := daemon.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "1.5GB", "12XB", "99999999999T"} {
		if _, err := daemon.ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
