package rendering

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/services/rendering/page"
)

// Handler serves the site from the bucket: every object with its content
// type and status, an ETag and Last-Modified answered with 304 on a
// conditional GET, and gzip for clients that accept it. An article URL
// with anything after the id (a slug, old or new) is redirected, 301, to
// the article's one URL.
func (r *Rendering) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		r.serveObject(w, req, homeKey)
	})
	mux.HandleFunc("GET /articles/{id}", func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		if bus.ValidateArticleID(id) != nil {
			http.NotFound(w, req)
			return
		}
		r.serveObject(w, req, articleKey(id))
	})
	mux.HandleFunc("GET /articles/{id}/{rest...}", func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		if bus.ValidateArticleID(id) != nil {
			http.NotFound(w, req)
			return
		}
		if _, err := r.site.GetInfo(req.Context(), articleKey(id)); err != nil {
			r.storageError(w, req, err)
			return
		}
		http.Redirect(w, req, r.cfg.Site.ArticleURL(id), http.StatusMovedPermanently)
	})
	for _, p := range []string{"/sections/{slug}", "/tags/{slug}", "/authors/{slug}"} {
		mux.HandleFunc("GET "+p, r.servePath)
		mux.HandleFunc("GET "+p+"/{feed}", r.servePath)
	}
	for _, p := range []string{"/feed.xml", "/atom.xml", "/sitemap.xml", "/robots.txt", "/sitemaps/{file}", "/assets/{file}", "/{news}"} {
		mux.HandleFunc("GET "+p, r.servePath)
	}
	return mux
}

// servePath serves the object named by the request path, for the paths
// the mux routed here; the internal _sources/ prefix can never match.
func (r *Rendering) servePath(w http.ResponseWriter, req *http.Request) {
	key := strings.TrimPrefix(req.URL.Path, "/")
	if key == "" || strings.HasPrefix(key, sourcePrefix) || strings.Contains(key, "..") {
		http.NotFound(w, req)
		return
	}
	if news := req.PathValue("news"); news != "" && !strings.HasPrefix(news, "news-sitemap") {
		http.NotFound(w, req)
		return
	}
	if f := req.PathValue("feed"); f != "" && f != page.PathRSS && f != page.PathAtom {
		http.NotFound(w, req)
		return
	}
	r.serveObject(w, req, key)
}

func (r *Rendering) storageError(w http.ResponseWriter, req *http.Request, err error) {
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		http.NotFound(w, req)
		return
	}
	r.deps.Logger.ErrorContext(req.Context(), "site storage", "path", req.URL.Path, "err", err)
	http.Error(w, "site storage unavailable", http.StatusServiceUnavailable)
}

func (r *Rendering) serveObject(w http.ResponseWriter, req *http.Request, key string) {
	info, body, err := r.readObject(req.Context(), key)
	if err != nil {
		r.storageError(w, req, err)
		return
	}
	status, _ := strconv.Atoi(info.Metadata["status"])
	if status == 0 {
		status = http.StatusOK
	}
	ct := info.Headers.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	gz := compressible(ct) && acceptsGzip(req)
	// The digest names the bytes; the gzip variant is other bytes, so it
	// gets its own strong validator.
	etag := `"` + strings.TrimPrefix(info.Digest, "SHA-256=") + `"`
	if gz {
		etag = `"` + strings.TrimPrefix(info.Digest, "SHA-256=") + `-gz"`
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("ETag", etag)
	h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case status == http.StatusGone:
		h.Set("Cache-Control", "public, max-age=300")
	case strings.HasPrefix(key, "assets/"):
		h.Set("Cache-Control", "public, max-age=86400")
	default:
		h.Set("Cache-Control", "public, max-age=60")
	}
	if status == http.StatusOK && notModified(req, etag, info.ModTime) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
		body = gzipBytes(body)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// readObject reads an object whole. A page being replaced while it is read
// (the home page, on a busy site, often is) can lose the chunks its old
// description points at: read again, and the new version is there.
func (r *Rendering) readObject(ctx context.Context, key string) (*jetstream.ObjectInfo, []byte, error) {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		var info *jetstream.ObjectInfo
		var body []byte
		// A read whose chunks were purged waits for chunks that never
		// come: bound each attempt, far above a normal read's milliseconds.
		actx, cancel := context.WithTimeout(ctx, time.Second)
		info, body, err = r.readObjectOnce(actx, key)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrObjectNotFound) || ctx.Err() != nil {
			return info, body, err
		}
	}
	return nil, nil, err
}

func (r *Rendering) readObjectOnce(ctx context.Context, key string) (*jetstream.ObjectInfo, []byte, error) {
	res, err := r.site.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(res)
	if err != nil {
		return nil, nil, err
	}
	return info, body, nil
}

// notModified applies RFC 9110's conditional GET: If-None-Match wins over
// If-Modified-Since; tags compare weakly, and either encoding's tag of
// the same bytes matches.
func notModified(req *http.Request, etag string, mod time.Time) bool {
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		want := bareTag(etag)
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || bareTag(t) == want {
				return true
			}
		}
		return false
	}
	if ims := req.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !mod.Truncate(time.Second).After(t)
	}
	return false
}

func bareTag(t string) string {
	t = strings.TrimPrefix(t, "W/")
	t = strings.Trim(t, `"`)
	return strings.TrimSuffix(t, "-gz")
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "xml") || strings.Contains(ct, "json")
}

func acceptsGzip(req *http.Request) bool {
	for _, part := range strings.Split(req.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.TrimSpace(params)
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}
