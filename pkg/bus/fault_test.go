package bus

import (
	"testing"
	"time"
)

func TestParseFaultSpec(t *testing.T) {
	rules, err := parseFaultSpec(" before-publish:4:sleep=5s, after-ack:10 ,after-publish:3:kill")
	if err != nil {
		t.Fatal(err)
	}
	want := []faultRule{
		{point: FaultBeforePublish, every: 4, sleep: 5 * time.Second},
		{point: FaultAfterAck, every: 10, kill: true},
		{point: FaultAfterPublish, every: 3, kill: true},
	}
	if len(rules) != len(want) {
		t.Fatalf("rules %+v, want %+v", rules, want)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Errorf("rule %d = %+v, want %+v", i, rules[i], want[i])
		}
	}
	if rules, err := parseFaultSpec(""); err != nil || len(rules) != 0 {
		t.Errorf("empty spec: %v %v", rules, err)
	}
	for _, bad := range []string{"before-publish", "somewhere:3", "after-ack:0", "after-ack:x", "after-ack:2:explode",
		"after-ack:2:sleep=", "after-ack:2:sleep=-1s", "after-ack:1:kill:again"} {
		if _, err := parseFaultSpec(bad); err == nil {
			t.Errorf("parseFaultSpec(%q) accepted", bad)
		}
	}
}
