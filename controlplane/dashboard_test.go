package controlplane

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardUsesServedMetrics: every metric the Grafana dashboard
// (config/grafana/dashboards) queries is one the control plane's /metrics
// serves, and every panel has a query and a place.
func TestDashboardUsesServedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../config/grafana/dashboards/milvus-cdc.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string                  `json:"title"`
			GridPos map[string]int          `json:"gridPos"`
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	svc := newHTTPFakeService()
	m := NewMetrics(svc)
	h := NewHandler(svc, HandlerOptions{Metrics: m})
	cdcCall(t, h, createStar) // a task, a request: every series exists
	lag := 0.5
	for id, tk := range svc.tasks {
		tk.LagSeconds, tk.RowsApplied = &lag, map[string]int64{"insert": 1}
		svc.tasks[id] = tk
	}
	m.pass()
	m.streamStarted()
	m.streamRemoved()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, testBase+"/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	served := string(body)
	name := regexp.MustCompile(`milvus_cdc_[a-z_]+`)
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no uid or no panels")
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 || p.GridPos["w"] == 0 {
			t.Errorf("panel %q has no query or no size", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				if !strings.Contains(served, "\n"+n) && !strings.HasPrefix(served, n) {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, n)
				}
			}
		}
	}
}
