package proto_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
)

// TestGeneratedCodeIsCurrent regenerates the Go code with buf and
// protoc-gen-go (both Go tools) in a scratch copy and fails when it differs
// from what is committed: run `cd proto && ../.bin/buf generate` and commit.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	buf := testtool.Find(t, testtool.Buf)
	scratch := t.TempDir()
	var protos []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".proto"), path == "buf.yaml", path == "buf.gen.yaml", path == "go.mod", path == "go.sum":
			if strings.HasSuffix(path, ".proto") {
				protos = append(protos, path)
			}
			return copyFile(path, filepath.Join(scratch, path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(protos) == 0 {
		t.Fatal("no .proto files found")
	}
	for _, args := range [][]string{{"lint"}, {"generate"}} {
		cmd := exec.Command(buf, args...)
		cmd.Dir = scratch
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("buf %s: %v\n%s", args[0], err, out)
		}
	}
	for _, p := range protos {
		gen := strings.TrimSuffix(p, ".proto") + ".pb.go"
		want, err := os.ReadFile(filepath.Join(scratch, gen))
		if err != nil {
			t.Fatalf("buf generated no %s: %v", gen, err)
		}
		got, err := os.ReadFile(gen)
		if err != nil {
			t.Fatalf("%s is not committed: %v", gen, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `cd proto && ../.bin/buf generate` and commit", gen)
		}
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
