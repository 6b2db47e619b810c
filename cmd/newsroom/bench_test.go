package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
)

// hugo is the peer of the benchmark's site comparison.
var hugo = testtool.Program{Name: "hugo", Env: "NEWSROOM_HUGO_BIN",
	How: "build it with: GOWORK=off go -C tools/hugo build -o ../../.bin/hugo github.com/gohugoio/hugo (.ci/install.d/20-hugo.sh does)"}

// benchRows are the figures "newsroom bench" must print, each with a
// baseline from the same run.
var benchRows = []string{
	"B1a", "B1s", "B1p50", "B1p99", "B1c", "B2", "B3b", "B3p", "B3s", "P", "Se", "Sr", "Ss", "I", "W", "T",
	"B2@10%-p50", "B2@10%-p99", "L@10%-p50", "L@10%-p99", "B2@50%-p50", "B2@50%-p99", "L@50%-p50", "L@50%-p99",
	"M0", "M", "A", "H", "R", "O",
}

// TestBenchShort runs "newsroom bench --short" as CI does and checks that
// the table is complete: every figure measured, every ratio a finite
// number, every target judged. It asserts no speed: the machine is
// shared, and the figures are for reading, not for failing a build.
func TestBenchShort(t *testing.T) {
	hugoBin := testtool.Find(t, hugo)
	corpus := filepath.Join(testtool.SharedDir(t), "eval", "naeb-dev", "truth.json")
	// Without the race detector: the bench times things, and --short
	// must stay a few minutes.
	bin := filepath.Join(t.TempDir(), "newsroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "bench", "--short", "--corpus", corpus, "--hugo", hugoBin)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("newsroom bench --short: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 4000))
	}
	t.Logf("newsroom bench --short:\n%s", stdout.String())
	if !strings.Contains(stdout.String(), "machine: ") || !strings.Contains(stdout.String(), "load average") {
		t.Error("the report does not say which machine it ran on and how loaded it was")
	}

	rows := map[string][]string{}
	for line := range strings.SplitSeq(stdout.String(), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 10 || strings.TrimSpace(cells[1]) == "id" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[1]] = cells[1:9]
	}
	for _, id := range benchRows {
		r, ok := rows[id]
		if !ok {
			t.Errorf("row %s is missing", id)
			continue
		}
		// id, measurement, figure, baseline, baseline figure, ratio, target, verdict
		if figure := r[2]; figure == "" || strings.HasPrefix(figure, "n/a") {
			t.Errorf("%s: no figure: %q", id, figure)
		}
		if base := r[4]; base == "" || strings.HasPrefix(base, "n/a") {
			t.Errorf("%s: no baseline figure: %q", id, base)
		}
		q, err := strconv.ParseFloat(strings.TrimSuffix(r[5], "×"), 64)
		if err != nil || math.IsNaN(q) || math.IsInf(q, 0) || q <= 0 {
			t.Errorf("%s: ratio %q is not a finite positive number", id, r[5])
		}
		if r[6] != "" && r[7] != "met" && r[7] != "**missed**" {
			t.Errorf("%s: target %s judged %q, want met or missed", id, r[6], r[7])
		}
	}
	for _, id := range []string{"P", "I", "W", "T", "L@10%-p99", "R", "O"} {
		if r, ok := rows[id]; ok && r[6] == "" {
			t.Errorf("%s: the issue's target is not shown", id)
		}
	}
}
