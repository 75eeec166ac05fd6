package prometheus

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"
)

func page(t *testing.T, e *exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.HandlerFunc()(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestExporter: counters, gauges and timers come out under their names and
// labels; a name reused with other labels is dropped, not a panic; a removed
// stream's series go.
func TestExporter(t *testing.T) {
	e := newExporter(false, service.MockResources().Logger())
	e.NewCounterCtor("milvus_cdc_rows_applied_total", "op", "stream")("insert", "t1").Incr(5)
	e.NewGaugeCtor("milvus_cdc_replication_lag_seconds", "stream")("t1").(interface{ SetFloat64(float64) }).SetFloat64(0.25)
	e.NewTimerCtor("output.latency", "stream")("t1").Timing(2e9)
	e.NewCounterCtor("milvus_cdc_rows_applied_total", "other")("x").Incr(1) // other keys: dropped
	e.NewGaugeCtor("milvus_cdc_rows_applied_total", "op", "stream")("insert", "t1").Set(1)
	body := page(t, e)
	for _, want := range []string{
		`milvus_cdc_rows_applied_total{op="insert",stream="t1"} 5`,
		`milvus_cdc_replication_lag_seconds{stream="t1"} 0.25`,
		`output_latency_sum{stream="t1"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	e.DeleteSeriesPartialMatch(map[string]string{"stream": "t1"})
	if body := page(t, e); strings.Contains(body, `stream="t1"`) {
		t.Errorf("series of removed stream t1 still served:\n%s", body)
	}
}
