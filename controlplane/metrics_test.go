package controlplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsEndpoint: GET /metrics shows the requests by type and code,
// the tasks by state and each task's lag and rows as the service reports.
func TestMetricsEndpoint(t *testing.T) {
	svc := newHTTPFakeService()
	m := NewMetrics(svc)
	h := NewHandler(svc, HandlerOptions{Metrics: m})
	cdcCall(t, h, createStar)
	cdcCall(t, h, `{"request_type":"get","request_data":{"task_id":"nope"}}`)
	lag := 1.5
	for id, tk := range svc.tasks {
		tk.LagSeconds, tk.RowsApplied = &lag, map[string]int64{"insert": 42}
		svc.tasks[id] = tk
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, testBase+"/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`milvus_cdc_requests_total{code="200",type="create"} 1`,
		`milvus_cdc_requests_total{code="404",type="get"} 1`,
		`milvus_cdc_tasks{state="Running"} 1`,
		`milvus_cdc_tasks{state="Paused"} 0`,
		`milvus_cdc_replication_lag_seconds{task="`,
		`milvus_cdc_rows_applied{op="insert",task="`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}
