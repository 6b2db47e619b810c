// Package apiauth checks the bearer tokens of the editor API: who is
// calling (the editor recorded on each revision) and what the token may do
// (its scopes).
package apiauth

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/newsroom/newsroom/pkg/problem"
)

// Scopes a token can hold.
const (
	// ScopeRead: status, lists.
	ScopeRead = "read"
	// ScopeSubmit: create articles and new revisions.
	ScopeSubmit = "submit"
	// ScopeRetract: take articles down.
	ScopeRetract = "retract"
)

// AllScopes are every scope; tokens from NEWSROOM_API_TOKENS hold them all.
var AllScopes = []string{ScopeRead, ScopeSubmit, ScopeRetract}

// Tokens checks bearer tokens. Only SHA-256 digests are kept, and every
// digest is compared in constant time, so neither timing nor a memory dump
// gives a token away.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [32]byte
	editor string
	scopes []string
}

// Principal is an authenticated caller.
type Principal struct {
	Editor string
	Scopes []string
	// Key identifies the token (a prefix of its digest) for per-token
	// limits, without revealing it.
	Key string
}

// Can reports whether the principal holds scope.
func (p Principal) Can(scope string) bool { return slices.Contains(p.Scopes, scope) }

// ParseTokens reads "token" or "editor:token" items, comma-separated, each
// with every scope. An unnamed token's editor identity is derived from its
// digest.
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
		if err := t.add(tokenEntry{digest: d, editor: editor, scopes: AllScopes}); err != nil {
			return nil, err
		}
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("no api tokens configured")
	}
	return t, nil
}

// ParseTokenFile reads a tokens file: one token a line as
//
//	editor:sha256:<hex digest of the token>:scope,scope
//
// with scopes among read, submit and retract (or "*" for all). Blank lines
// and lines starting with '#' are ignored. The file holds digests only, so
// it gives no token away.
func ParseTokenFile(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 4 || parts[1] != "sha256" {
			return nil, fmt.Errorf("line %d: want editor:sha256:<hex>:scope,scope", n)
		}
		editor, digestHex, scopeList := strings.TrimSpace(parts[0]), strings.ToLower(parts[2]), parts[3]
		if err := validEditor(editor); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		raw, err := hex.DecodeString(digestHex)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("line %d: the digest must be 64 hex digits (sha256 of the token)", n)
		}
		e := tokenEntry{editor: editor}
		copy(e.digest[:], raw)
		for _, s := range strings.Split(scopeList, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "*":
				e.scopes = AllScopes
			case slices.Contains(AllScopes, s):
				if !slices.Contains(e.scopes, s) {
					e.scopes = append(e.scopes, s)
				}
			default:
				return nil, fmt.Errorf("line %d: unknown scope %q (want %s or *)", n, s, strings.Join(AllScopes, ", "))
			}
		}
		if err := t.add(e); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// Load combines the tokens of spec (NEWSROOM_API_TOKENS) and of the file at
// path (NEWSROOM_API_TOKENS_FILE); either may be empty, not both.
func Load(spec, path string) (*Tokens, error) {
	t := &Tokens{}
	if strings.TrimSpace(spec) != "" {
		st, err := ParseTokens(spec)
		if err != nil {
			return nil, err
		}
		t.entries = append(t.entries, st.entries...)
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("tokens file: %w", err)
		}
		defer f.Close()
		ft, err := ParseTokenFile(f)
		if err != nil {
			return nil, fmt.Errorf("tokens file %s: %w", path, err)
		}
		for _, e := range ft.entries {
			if err := t.add(e); err != nil {
				return nil, fmt.Errorf("tokens file %s: %w", path, err)
			}
		}
	}
	if len(t.entries) == 0 {
		return nil, errors.New("no api tokens configured")
	}
	return t, nil
}

func (t *Tokens) add(e tokenEntry) error {
	for _, o := range t.entries {
		if o.digest == e.digest {
			return fmt.Errorf("the token of %q is listed twice", e.editor)
		}
	}
	if len(e.scopes) == 0 {
		return fmt.Errorf("the token of %q has no scope", e.editor)
	}
	t.entries = append(t.entries, e)
	return nil
}

func validEditor(s string) error {
	if s == "" || len(s) > 100 {
		return errors.New("the editor name must be 1 to 100 characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("the editor name holds a control character")
		}
	}
	return nil
}

// HashToken is the "sha256:<hex>" form of a token for a tokens file.
func HashToken(token string) string {
	d := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(d[:])
}

// Authenticate finds the principal of a presented token. Every entry is
// compared, in constant time, whether or not an earlier one matched.
func (t *Tokens) Authenticate(token string) (Principal, bool) {
	d := sha256.Sum256([]byte(token))
	var match *tokenEntry
	for i := range t.entries {
		if subtle.ConstantTimeCompare(d[:], t.entries[i].digest[:]) == 1 {
			match = &t.entries[i]
		}
	}
	if match == nil {
		return Principal{}, false
	}
	return Principal{Editor: match.editor, Scopes: match.scopes, Key: hex.EncodeToString(d[:8])}, true
}

// Editor returns the identity of a presented token.
func (t *Tokens) Editor(token string) (string, bool) {
	p, ok := t.Authenticate(token)
	return p.Editor, ok
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the authenticated caller of the request.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// EditorFrom is the authenticated editor of the request.
func EditorFrom(ctx context.Context) string {
	p, _ := PrincipalFrom(ctx)
	return p.Editor
}

// bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Unauthorized is the 401 answer.
func Unauthorized() *problem.Details {
	return problem.New(http.StatusUnauthorized, "unauthorized", "Unauthorized",
		"Send an API token as Authorization: Bearer <token>.")
}

// Forbidden is the 403 answer for a token without scope.
func Forbidden(scope string) *problem.Details {
	return problem.New(http.StatusForbidden, "forbidden", "Forbidden",
		fmt.Sprintf("This token may not do that: it lacks the %q scope.", scope))
}

// Middleware answers 401 without a valid bearer token, and otherwise puts
// the principal in the request's context.
func (t *Tokens) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		var p Principal
		if ok {
			p, ok = t.Authenticate(token)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsroom"`)
			problem.Write(w, r, Unauthorized())
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Require answers 403 unless the authenticated principal holds scope (and
// 401 when there is none: Middleware must run first).
func Require(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsroom"`)
			problem.Write(w, r, Unauthorized())
		case !p.Can(scope):
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="newsroom", error="insufficient_scope", scope=%q`, scope))
			problem.Write(w, r, Forbidden(scope))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
