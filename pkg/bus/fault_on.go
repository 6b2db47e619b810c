//go:build faultinject

package bus

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// faults are this process's NEWSROOM_FAULT rules. A faultinject build is a
// test instrument, so the setting is read once, here, and a malformed one
// stops the process before it does anything.
var faults = loadFaults()

type armedFault struct {
	faultRule
	hits atomic.Uint64
}

func loadFaults() []*armedFault {
	rules, err := parseFaultSpec(os.Getenv(FaultEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make([]*armedFault, len(rules))
	for i, r := range rules {
		out[i] = &armedFault{faultRule: r}
	}
	return out
}

// injectFault counts a passage through point for an article event and
// takes the rules' actions. Before a kill, flush (if set) pushes what the
// connection has buffered to the server, so that "after-ack" means the ack
// arrived. A JSON line on stderr records every fault, for the test to find
// in the process's log.
func injectFault(point, subject string, flush func() error) {
	if _, _, ok := ParseSubject(subject); !ok {
		return // dead letters and other subjects are not counted
	}
	for _, f := range faults {
		if f.point != point {
			continue
		}
		n := f.hits.Add(1)
		if n%f.every != 0 {
			continue
		}
		line, _ := json.Marshal(map[string]any{
			"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "WARN", "msg": "fault injected",
			"point": point, "action": f.action(), "hit": n, "subject": subject,
		})
		if f.kill && flush != nil {
			_ = flush()
		}
		_, _ = os.Stderr.Write(append(line, '\n'))
		if !f.kill {
			time.Sleep(f.sleep)
			continue
		}
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			err = p.Kill()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault injection: kill failed:", err)
			os.Exit(137)
		}
		select {} // SIGKILL is on its way; nothing more may happen here
	}
}
