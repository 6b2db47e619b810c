package x_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/fakes"
	"github.com/newsroom/newsroom/services/socialshare/networks"
	"github.com/newsroom/newsroom/services/socialshare/networks/x"
)

// An attempt whose answer was lost, or another instance's attempt racing
// this one, already posted the tweet: X answers the second POST with 403
// "duplicate content", and the client finds the tweet by its link rather
// than calling the share failed. There is still one tweet.
func TestDuplicateContentIsTheEarlierPost(t *testing.T) {
	fake := fakes.NewX("token")
	t.Cleanup(fake.Close)
	newClient := func() *x.Client {
		return x.New(fake.URL, "token", &networks.HTTP{Client: &http.Client{Timeout: 5 * time.Second},
			Bucket: networks.NewBucket(6000, 2), MaxWait: time.Second})
	}
	link := "https://news.example.com/articles/a-1?utm_source=x"
	req := networks.Request{ArticleID: "a-1", Key: "k", CreatedAt: time.Now(),
		Post: compose.Post{Network: compose.X, Text: "A headline " + link, Link: link}}
	first, err := newClient().Post(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := newClient().Post(context.Background(), req)
	if err != nil {
		t.Fatalf("second post of the same tweet: %v", err)
	}
	if second.ID != first.ID {
		t.Errorf("second post answered %q, want the first tweet %q", second.ID, first.ID)
	}
	if n := len(fake.Tweets()); n != 1 {
		t.Errorf("%d tweets, want 1", n)
	}
	// A link X does not extract (a loopback host, no top-level domain)
	// is found by the tweet's text, which X keeps as posted.
	local := "http://127.0.0.1:8080/articles/a-3"
	lreq := networks.Request{ArticleID: "a-3", Key: "k3", CreatedAt: time.Now(),
		Post: compose.Post{Network: compose.X, Text: "Fish & chips " + local, Link: local}}
	lfirst, err := newClient().Post(context.Background(), lreq)
	if err != nil {
		t.Fatal(err)
	}
	if lsecond, err := newClient().Post(context.Background(), lreq); err != nil || lsecond.ID != lfirst.ID {
		t.Errorf("second post of a tweet with a loopback link: %+v, %v; want the first tweet %q", lsecond, err, lfirst.ID)
	}
	if n := len(fake.Tweets()); n != 2 {
		t.Errorf("%d tweets, want 2", n)
	}
	// Another article's identical text is not ours: the refusal stands.
	other := req
	other.ArticleID, other.Post.Link = "a-2", "https://news.example.com/articles/a-2?utm_source=x"
	if _, err := newClient().Post(context.Background(), other); err == nil {
		t.Error("an identical text for another link was taken as our post")
	}
}
