package controlplane

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the control plane's Prometheus metrics (GET /metrics): its
// requests, its reconcile passes and, read at each scrape, the tasks by
// state and each task's lag (measured from now: a task whose worker hangs
// shows a growing lag here even when the worker answers nothing).
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	passes   prometheus.Counter
	started  prometheus.Counter
	removed  prometheus.Counter
}

// NewMetrics registers the metrics; svc (may be nil) answers for the tasks.
func NewMetrics(svc Service) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "milvus_cdc_requests_total",
			Help: "POST /cdc requests by request type and HTTP status."}, []string{"type", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "milvus_cdc_request_seconds",
			Help: "POST /cdc request latency by request type.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"type"}),
		passes: prometheus.NewCounter(prometheus.CounterOpts{Name: "milvus_cdc_reconcile_passes_total",
			Help: "Reconcile passes run by this control plane (while it leads)."}),
		started: prometheus.NewCounter(prometheus.CounterOpts{Name: "milvus_cdc_reconcile_streams_started_total",
			Help: "Task streams started on a worker (a new task, a resume, or a move off a dead worker)."}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{Name: "milvus_cdc_reconcile_streams_removed_total",
			Help: "Task streams removed (pause, delete, duplicates)."}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.passes, m.started, m.removed)
	if svc != nil {
		m.reg.MustRegister(&taskCollector{svc: svc})
	}
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) request(kind string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if kind == "" {
		kind = "none"
	}
	m.requests.WithLabelValues(kind, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(kind).Observe(d.Seconds())
}

func (m *Metrics) pass() {
	if m != nil {
		m.passes.Inc()
	}
}

func (m *Metrics) streamStarted() {
	if m != nil {
		m.started.Inc()
	}
}

func (m *Metrics) streamRemoved() {
	if m != nil {
		m.removed.Inc()
	}
}

var (
	descTasks = prometheus.NewDesc("milvus_cdc_tasks", "Tasks by state.", []string{"state"}, nil)
	descLag   = prometheus.NewDesc("milvus_cdc_replication_lag_seconds",
		"Time since the newest source change a task applied (its stream's report), by task.", []string{"task"}, nil)
	descRows = prometheus.NewDesc("milvus_cdc_rows_applied",
		"Rows (and operations) a task's current stream applied, by task and op.", []string{"task", "op"}, nil)
)

// taskCollector reads the tasks at each scrape.
type taskCollector struct{ svc Service }

func (c *taskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTasks
	ch <- descLag
	ch <- descRows
}

func (c *taskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tasks, err := c.svc.List(ctx)
	if err != nil {
		return // the store is away: no task metrics in this scrape
	}
	states := map[string]float64{StateRunning: 0, StatePaused: 0, StateFailed: 0}
	for _, t := range tasks {
		states[t.State]++
		if t.LagSeconds != nil && t.State == StateRunning { // a paused task lags by design
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, *t.LagSeconds, t.ID)
		}
		for op, n := range t.RowsApplied {
			ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(n), t.ID, op)
		}
	}
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, n, s)
	}
}
