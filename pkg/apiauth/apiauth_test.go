package apiauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	readerToken = "reader-token-0123456789"
	deskToken   = "desk-token-0123456789ab"
)

func tokensFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	content := "# editors\n\nreader:" + HashToken(readerToken) + ":read\n" +
		"Copy Desk:" + HashToken(deskToken) + ":read,submit\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScopesFromFileAndSpec(t *testing.T) {
	tokens, err := Load("admin:admin-token-0123456789", tokensFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var seen Principal
	h := tokens.Middleware(Require(ScopeSubmit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = PrincipalFrom(r.Context())
	})))
	for _, tc := range []struct {
		auth   string
		status int
		editor string
	}{
		{"", http.StatusUnauthorized, ""},
		{"Bearer wrong-token-0123456789", http.StatusUnauthorized, ""},
		{"Basic " + deskToken, http.StatusUnauthorized, ""},
		{"Bearer " + readerToken, http.StatusForbidden, ""},
		{"Bearer " + deskToken, http.StatusOK, "Copy Desk"},
		{"bearer  " + deskToken, http.StatusOK, "Copy Desk"},
		{"Bearer admin-token-0123456789", http.StatusOK, "admin"},
	} {
		seen = Principal{}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/articles", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || seen.Editor != tc.editor {
			t.Errorf("%q: %d %q, want %d %q", tc.auth, rec.Code, seen.Editor, tc.status, tc.editor)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%q: not a problem document", tc.auth)
		}
	}
}

func TestTokenFileRefusals(t *testing.T) {
	for name, content := range map[string]string{
		"plain token":   "ed:plain-token-0123456789:read\n",
		"short digest":  "ed:sha256:abcd:read\n",
		"unknown scope": "ed:" + HashToken(deskToken) + ":publish\n",
		"no scope":      "ed:" + HashToken(deskToken) + ":\n",
		"twice":         "a:" + HashToken(deskToken) + ":read\nb:" + HashToken(deskToken) + ":read\n",
		"no editor":     ":" + HashToken(deskToken) + ":read\n",
	} {
		if _, err := ParseTokenFile(strings.NewReader(content)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Load("", ""); err == nil {
		t.Error("no tokens at all accepted")
	}
}
