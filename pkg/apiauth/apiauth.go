// Package apiauth checks the bearer tokens of the editor API.
package apiauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/newsroom/newsroom/pkg/problem"
)

// Tokens checks bearer tokens. Only SHA-256 digests are kept, and every
// digest is compared in constant time, so neither timing nor a memory dump
// gives a token away.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [32]byte
	editor string
}

// ParseTokens reads "token" or "editor:token" items, comma-separated. An
// unnamed token's editor identity is derived from its digest.
func ParseTokens(spec string) (*Tokens, error) {
	t := &Tokens{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		editor, token, named := strings.Cut(item, ":")
		if !named {
			token, editor = item, ""
		}
		if len(token) < 16 {
			return nil, fmt.Errorf("api token for %q is shorter than 16 characters", editor)
		}
		d := sha256.Sum256([]byte(token))
		if editor == "" {
			editor = "token-" + hex.EncodeToString(d[:4])
		}
		t.entries = append(t.entries, tokenEntry{digest: d, editor: editor})
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("no api tokens configured")
	}
	return t, nil
}

// Editor returns the identity of a presented token.
func (t *Tokens) Editor(token string) (string, bool) {
	d := sha256.Sum256([]byte(token))
	editor, found := "", 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			editor, found = e.editor, 1
		}
	}
	return editor, found == 1
}

type editorKey struct{}

// EditorFrom is the authenticated editor of the request.
func EditorFrom(ctx context.Context) string {
	e, _ := ctx.Value(editorKey{}).(string)
	return e
}

// Middleware answers 401 without a valid bearer token.
func (t *Tokens) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		editor, valid := "", false
		if ok {
			editor, valid = t.Editor(strings.TrimSpace(token))
		}
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsroom"`)
			problem.Write(w, r, problem.New(http.StatusUnauthorized, "unauthorized", "Unauthorized",
				"Send an API token as Authorization: Bearer <token>."))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), editorKey{}, editor)))
	})
}
