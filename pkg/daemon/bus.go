package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/newsroom/newsroom/pkg/bus"
)

// BusSettings are the deployment's settings of the bus, read the same way
// by every service binary and by the all-in-one.
type BusSettings struct {
	Streams bus.StreamOptions
	// AckWait replaces the consumers' default (30s) when set.
	AckWait time.Duration
}

// BusFromEnv reads:
//
//	NEWSROOM_REPLICAS          stream and bucket replicas (default 1; 3 on a cluster)
//	NEWSROOM_STREAM_MAX_BYTES  cap of the NEWS stream, e.g. 50GB (1024-based units
//	                           K, M, G, T, with or without B; default unlimited).
//	                           Full, it refuses new events: ingest answers 503
//	                           and stages hold their messages until there is room.
//	                           Set the same value on every service: each one
//	                           applies it to the stream at start.
//	NEWSROOM_ACK_WAIT          how long an unacknowledged delivery waits before the
//	                           server redelivers it, e.g. after a crash (default 30s)
func BusFromEnv(getenv func(string) string) (BusSettings, error) {
	var b BusSettings
	if r := getenv("NEWSROOM_REPLICAS"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 5 {
			return b, fmt.Errorf("NEWSROOM_REPLICAS=%q: want a number from 1 to 5", r)
		}
		b.Streams.Replicas = n
	}
	if v := getenv("NEWSROOM_STREAM_MAX_BYTES"); v != "" {
		n, err := ParseSize(v)
		if err != nil || n <= 0 {
			return b, fmt.Errorf("NEWSROOM_STREAM_MAX_BYTES=%q: want a size such as 50GB", v)
		}
		b.Streams.MaxBytes = n
	}
	if v := getenv("NEWSROOM_ACK_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return b, fmt.Errorf("NEWSROOM_ACK_WAIT=%q: want a duration of at least 1s, such as 30s", v)
		}
		b.AckWait = d
	}
	return b, nil
}

// ParseSize reads a byte count: a number with an optional 1024-based unit
// as NATS writes them (512, 64K, 64KB, 10MiB, 50GB, 1T).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit K, M, G or T", s)
	}
	return n * mult, nil
}
