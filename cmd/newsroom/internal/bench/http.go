package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
)

// httpClients is how many requests are in flight in a closed-loop HTTP
// measurement: an editor's desk and a few wire feeds at once.
const httpClients = 8

// serveHTTP serves h on a loopback port the way the all-in-one does
// (kithttp.Serve) until stop is called.
func serveHTTP(h http.Handler) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = kithttp.Serve(ctx, ln, h); close(done) }()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done }, nil
}

func newClient() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
	}
}

// post sends body to url and wants status want.
func post(ctx context.Context, c *http.Client, url, token string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// closedLoop runs do(i) for i in [0, n) on workers goroutines, each
// starting its next as soon as its last returned, and returns the rate.
func closedLoop(ctx context.Context, n, workers int, do func(i int) error) (float64, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("request %d: %w", i, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// b3Result is the HTTP baselines: a handler that reads the body and
// answers 202, and one that also stores the body on the NEWS stream and
// answers only after the PubAck, as ingest must.
//
// A third, statusView, is the PubAck handler with a consumer running that
// writes a small record per request into a KV bucket, as a status view
// that reads every submission does: a delivery and a second durable write
// per request, on the same cores. It is no target's baseline; it shows what
// ingest's status view saves by reading an article's own events from the
// log when asked instead.
type b3Result struct {
	bare, pubAck, statusView float64
}

func measureB3(ctx context.Context, tmp string, bodies [][]byte, n int) (b3Result, error) {
	var res b3Result
	env, err := startNATS(tmp)
	if err != nil {
		return res, err
	}
	defer env.close()
	_, js, err := env.connect("b3")
	if err != nil {
		return res, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return res, err
	}
	accepted := []byte(`{"id":"x","revision":1,"state":"processing"}`)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(accepted)
	})
	var seq atomic.Int64
	pubAck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := "b3-" + strconv.FormatInt(seq.Add(1), 10)
		m := nats.NewMsg(bus.Subject("b3", id))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, bus.MsgID(id, 1, "b3"))
		if _, err := js.PublishMsg(r.Context(), m); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(accepted)
	})
	for _, m := range []struct {
		h      http.Handler
		out    *float64
		status bool
	}{{bare, &res.bare, false}, {pubAck, &res.pubAck, false}, {pubAck, &res.statusView, true}} {
		if m.status {
			stopView, err := runStatusView(ctx, js)
			if err != nil {
				return res, err
			}
			defer stopView()
		}
		base, stop, err := serveHTTP(m.h)
		if err != nil {
			return res, err
		}
		c := newClient()
		*m.out, err = closedLoop(ctx, n, httpClients, func(i int) error {
			return post(ctx, c, base+"/v1/articles", "", bodies[i%len(bodies)], http.StatusAccepted)
		})
		c.CloseIdleConnections()
		stop()
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// runStatusView consumes the B3 subjects from now on and writes a record
// of each message into a KV bucket, creating its key, then acks: the least
// a status view of the submissions does.
func runStatusView(ctx context.Context, js jetstream.JetStream) (stop func(), err error) {
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b3_status"})
	if err != nil {
		return nil, err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable: "b3-status", FilterSubject: bus.Subject("b3", "*"),
		DeliverPolicy: jetstream.DeliverNewPolicy, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		return nil, err
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		_, id, _ := bus.ParseSubject(msg.Subject())
		record := `{"id":"` + id + `","revision":1,"state":"processing","accepted_bytes":` + strconv.Itoa(len(msg.Data())) + `}`
		if _, err := kv.Create(ctx, id, []byte(record)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			_ = msg.Nak()
			return
		}
		_ = msg.Ack()
	})
	if err != nil {
		return nil, err
	}
	return cc.Stop, nil
}

// get fetches url and returns its status.
func get(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
