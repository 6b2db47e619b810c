package envscan

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestReads(t *testing.T) {
	dir := t.TempDir()
	src := `package x

import "os"

type parts struct{ Getenv func(string) string }

func f(getenv func(string) string, p parts, env func(string) string) {
	_ = os.Getenv("A_ONE")
	_ = getenv("B_TWO")
	_ = p.Getenv("C_THREE")
	_ = env("OTEL_FOUR")
	_, _ = os.LookupEnv("E_FIVE")
	_ = getenv("not a var")
	name := "DYNAMIC"
	_ = getenv(name)
	_ = parts{}
	_ = struct{ DefaultAddr string }{DefaultAddr: "127.0.0.1:9"}
}
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\nimport \"os\"\nvar _ = os.Getenv(\"TEST_ONLY\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Reads(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A_ONE", "B_TWO", "C_THREE", "E_FIVE", "OTEL_FOUR"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Reads = %v, want %v", got, want)
	}
	addrs, err := StringField(dir, "DefaultAddr")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(addrs, []string{"127.0.0.1:9"}) {
		t.Errorf("StringField = %v", addrs)
	}
	if _, err := Reads(t.TempDir()); err == nil {
		t.Error("Reads of a directory with no Go files: no error")
	}
}
