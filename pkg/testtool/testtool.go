// Package testtool finds the outside programs some tests need (Jaeger,
// buf, Chromium, Java, nats-server). When one is missing the test is
// skipped with a message saying how to get it; under CI=true a missing
// program fails the test instead, so CI never passes by skipping.
package testtool

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Program describes an outside program.
type Program struct {
	// Name of the executable, looked up in $REPO/.bin and then in PATH.
	Name string
	// Env, if set, is a variable that overrides the path.
	Env string
	// How tells a developer how to get it, e.g. ".ci/run installs it".
	How string
}

// Find returns the program's path, or skips (fails under CI=true).
func Find(t testing.TB, p Program) string {
	t.Helper()
	path, err := Lookup(p)
	if err == nil {
		return path
	}
	msg := p.Name + " is needed for this test and was not found (" + err.Error() + "); " + p.How
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Lookup finds the program without a test.
func Lookup(p Program) (string, error) {
	if p.Env != "" {
		if v := os.Getenv(p.Env); v != "" {
			if _, err := os.Stat(v); err != nil {
				return "", err
			}
			return v, nil
		}
	}
	if root, err := RepoRoot(); err == nil {
		candidate := filepath.Join(root, ".bin", p.Name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	return exec.LookPath(p.Name)
}

// RepoRoot is the directory holding go.work, found from the working
// directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory")
		}
		dir = parent
	}
}

// Jaeger is Jaeger v2, built from github.com/jaegertracing/jaeger@v1.76.0.
var Jaeger = Program{Name: "jaeger", Env: "NEWSROOM_JAEGER_BIN",
	How: "build it with: go -C tools/jaeger build -o ../../.bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger (.ci/run does)"}

// Buf is the protobuf tool, built from github.com/bufbuild/buf@v1.70.0.
var Buf = Program{Name: "buf", Env: "NEWSROOM_BUF_BIN",
	How: "build it with: go -C tools/buf build -o ../../.bin/buf github.com/bufbuild/buf/cmd/buf (.ci/run does)"}

// SharedDir is the read-only ../shared folder beside the repository
// (fixtures, conformance suites, evaluation data), or NEWSROOM_SHARED_DIR.
// Tests that need it fail when it is missing: it is present in CI.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NEWSROOM_SHARED_DIR"); d != "" {
		return d
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the shared folder (fixtures, conformance, eval) is missing: %v; set NEWSROOM_SHARED_DIR", err)
	}
	return dir
}

// The validators and browser that page tests run;
// .ci/install.d/40-rendering-validators.sh installs them and writes the
// .bin wrappers.
var (
	Vnu = Program{Name: "vnu", Env: "NEWSROOM_VNU_BIN",
		How: "run .ci/install.d/40-rendering-validators.sh (Java 17 and npm vnu-jar)"}
	Sdtt = Program{Name: "sdtt", Env: "NEWSROOM_SDTT_BIN",
		How: "run .ci/install.d/40-rendering-validators.sh (npm structured-data-testing-tool)"}
	Chromium = Program{Name: "chromium", Env: "NEWSROOM_CHROMIUM_BIN",
		How: "apt-get install chromium, or run .ci/install.d/40-rendering-validators.sh"}
	Axe = Program{Name: "axe.min.js", Env: "NEWSROOM_AXE_JS",
		How: "run .ci/install.d/40-rendering-validators.sh (npm axe-core)"}
)
