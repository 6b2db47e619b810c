package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/deploy/localstack"
)

// TestDockerBuildContext checks what each Dockerfile's build stage needs,
// without Docker: with only pkg/, proto/ and the service copied into an
// empty directory, GOWORK=off and CGO_ENABLED=0, the service and the health
// probe resolve completely (every module required, every go.sum entry
// present, no cgo). go list loads what go build would compile, in seconds
// instead of minutes; the binaries themselves are built by the local-stack
// tests, which check they are static.
func TestDockerBuildContext(t *testing.T) {
	root := repoRoot(t)
	for _, name := range localstack.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			for _, dir := range []string{"pkg", "proto", filepath.Join("services", name)} {
				if err := os.CopyFS(filepath.Join(src, dir), os.DirFS(filepath.Join(root, dir))); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if .CgoFiles}}cgo: {{.ImportPath}}{{end}}",
				"./cmd/"+name, "github.com/newsroom/newsroom/pkg/daemon/probe")
			cmd.Dir = filepath.Join(src, "services", name)
			cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("GOWORK=off: %s from pkg/, proto/ and services/%s alone: %v\n%s", name, name, err, b)
			}
			if out := strings.TrimSpace(string(b)); out != "" {
				t.Errorf("packages need cgo, so the binary cannot be static:\n%s", out)
			}
		})
	}
}
