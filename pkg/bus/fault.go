package bus

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fault points are the moments of a message's life where the fault suite
// (deploy/faults) crashes or stalls a service on purpose. They fire only in
// binaries built with the faultinject build tag, as NEWSROOM_FAULT says
// (see parseFaultSpec); in every other build they compile to nothing.
const (
	// FaultBeforePublish: a stage did its work (page stored, post made)
	// and is about to publish its event; in ingest, a revision is about to
	// be stored.
	FaultBeforePublish = "before-publish"
	// FaultAfterPublish: the event is stored (PubAck received) and the
	// message that caused it is not acked yet; in ingest, the editor has
	// not had the 2xx yet.
	FaultAfterPublish = "after-publish"
	// FaultAfterAck: the message is acked and the ack has reached the
	// server.
	FaultAfterAck = "after-ack"
)

// FaultEnv names the environment variable a faultinject build reads.
const FaultEnv = "NEWSROOM_FAULT"

// faultRule is one "<point>:<n>[:<action>]" of NEWSROOM_FAULT: the action
// is taken at every n-th time the point is reached (n, 2n, …); "kill"
// (the default) ends the process with SIGKILL the first time, "sleep=<d>"
// stalls the goroutine at the point for d.
type faultRule struct {
	point string
	every uint64
	kill  bool
	sleep time.Duration
}

func (r faultRule) action() string {
	if r.kill {
		return "kill"
	}
	return "sleep=" + r.sleep.String()
}

// parseFaultSpec reads NEWSROOM_FAULT: comma-separated rules, e.g.
// "after-publish:3" (SIGKILL at the third event stored) or
// "before-publish:4:sleep=5s,after-ack:10".
func parseFaultSpec(spec string) ([]faultRule, error) {
	var rules []faultRule
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("%s: %q: want <point>:<n>[:kill|sleep=<duration>]", FaultEnv, part)
		}
		r := faultRule{point: fields[0], kill: true}
		switch r.point {
		case FaultBeforePublish, FaultAfterPublish, FaultAfterAck:
		default:
			return nil, fmt.Errorf("%s: unknown point %q (want %s, %s or %s)", FaultEnv, r.point,
				FaultBeforePublish, FaultAfterPublish, FaultAfterAck)
		}
		n, err := strconv.ParseUint(fields[1], 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%s: %q: the count must be a positive number", FaultEnv, part)
		}
		r.every = n
		if len(fields) == 3 {
			switch a := fields[2]; {
			case a == "kill":
			case strings.HasPrefix(a, "sleep="):
				d, err := time.ParseDuration(strings.TrimPrefix(a, "sleep="))
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("%s: %q: want sleep=<positive duration>", FaultEnv, part)
				}
				r.kill, r.sleep = false, d
			default:
				return nil, fmt.Errorf("%s: %q: unknown action %q (want kill or sleep=<duration>)", FaultEnv, part, a)
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}
