package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/newsroom/newsroom/pkg/testtool"
)

// TestReadmeNamesEveryVariable: every variable "newsroom help serve"
// documents is in the README's configuration table too, so the README
// never trails the binary.
func TestReadmeNamesEveryVariable(t *testing.T) {
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("serve.go")
	if err != nil {
		t.Fatal(err)
	}
	help := string(src)
	start := strings.Index(help, "environment:")
	if start < 0 {
		t.Fatal(`serve.go: no "environment:" in serve's help`)
	}
	help = help[start:]
	help = help[:strings.Index(help, "`")]
	vars := regexp.MustCompile(`NEWSROOM_[A-Z_]+[A-Z]`).FindAllString(help, -1)
	if len(vars) < 10 {
		t.Fatalf("found only %v in serve's help", vars)
	}
	for _, v := range vars {
		if !strings.Contains(string(readme), "`"+v+"`") && !strings.Contains(string(readme), v+"`") {
			t.Errorf("%s is in \"newsroom help serve\" but not in README.md", v)
		}
	}
}
