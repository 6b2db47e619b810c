package ingest

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds the fuzzer's minimisation. FuzzSubmit runs a real
// nats-server in the process, whose background work shows up as new
// coverage that no rerun reproduces; minimising each such input for the
// default 60 seconds would spend the whole fuzzing budget of CI on noise.
// An explicit -test.fuzzminimizetime still wins.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if f := flag.Lookup("test.fuzzminimizetime"); f != nil && !set {
		_ = f.Value.Set("100x")
	}
	os.Exit(m.Run())
}
