package localstack_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is one scrape of a /metrics endpoint.
type families map[string]*dto.MetricFamily

func fetchMetrics(ctx context.Context, base string) (families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func scrape(t *testing.T, base string) families {
	t.Helper()
	f, err := fetchMetrics(context.Background(), base)
	if err != nil {
		t.Fatalf("scrape %s/metrics: %v", base, err)
	}
	return f
}

func waitMetrics(ctx context.Context, t *testing.T, base string, ok func(families) bool) {
	t.Helper()
	var last error
	for {
		f, err := fetchMetrics(ctx, base)
		if err == nil && ok(f) {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("%s/metrics did not reach the expected state (last error %v)", base, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// value sums the series of name whose labels include want: a counter's or
// gauge's value, a histogram's sample count.
func (f families) value(name string, want map[string]string) float64 {
	var sum float64
	for _, m := range f.series(name, want) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func (f families) has(name string, want map[string]string) bool { return len(f.series(name, want)) > 0 }

func (f families) series(name string, want map[string]string) []*dto.Metric {
	fam, ok := f[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}
