// Package prometheus is the `prometheus` metrics exporter of milvus-cdc: the
// Benthos metrics of every stream (the milvus_cdc_* series of the plugins
// included, labelled by stream = task in streams mode) served on the HTTP
// server's /metrics with client_golang. Core Benthos ships none.
package prometheus

import (
	"context"
	"net/http"
	"strings"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func spec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Summary("Serves every metric on the HTTP server's `/metrics` in the Prometheus text format (client_golang).").
		Description("Counters and gauges keep their names (characters Prometheus refuses become `_`); timers are summaries in seconds. " +
			"In streams mode every series carries the stream's ID as the `stream` label, and a removed stream's series go with it.").
		Field(service.NewBoolField("add_process_metrics").Description("Also export the Go runtime's and the process's own metrics.").Default(true))
}

func init() {
	err := service.RegisterMetricsExporter("prometheus", spec(), func(conf *service.ParsedConfig, log *service.Logger) (service.MetricsExporter, error) {
		process, err := conf.FieldBool("add_process_metrics")
		if err != nil {
			return nil, err
		}
		return newExporter(process, log), nil
	})
	if err != nil {
		panic(err)
	}
}

// exporter keeps one vector per metric name in its own registry.
type exporter struct {
	reg *prom.Registry
	log *service.Logger

	mu   sync.Mutex
	vecs map[string]*vec
}

type vec struct {
	keys    []string
	counter *prom.CounterVec
	gauge   *prom.GaugeVec
	summary *prom.SummaryVec
}

func (v *vec) collector() prom.Collector {
	switch {
	case v.counter != nil:
		return v.counter
	case v.gauge != nil:
		return v.gauge
	}
	return v.summary
}

func newExporter(process bool, log *service.Logger) *exporter {
	e := &exporter{reg: prom.NewRegistry(), log: log, vecs: map[string]*vec{}}
	if process {
		e.reg.MustRegister(prom.NewGoCollector(), prom.NewProcessCollector(prom.ProcessCollectorOpts{}))
	}
	return e
}

// sanitize makes a Prometheus metric or label name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// get returns the vector of name, made by mk on first use. A name asked for
// again with other label keys or of another kind gets nil (its series are
// dropped and logged once), never a panic.
func (e *exporter) get(name string, keys []string, mk func(name string, keys []string) *vec, kind func(*vec) bool) *vec {
	name = sanitize(name)
	keys = append([]string(nil), keys...)
	for i := range keys {
		keys[i] = sanitize(keys[i])
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.vecs[name]; ok {
		if v == nil || !kind(v) || strings.Join(v.keys, ",") != strings.Join(keys, ",") {
			return nil
		}
		return v
	}
	v := mk(name, keys)
	if err := e.reg.Register(v.collector()); err != nil {
		e.log.Warnf("Metric %s not exported: %v", name, err)
		e.vecs[name] = nil
		return nil
	}
	e.vecs[name] = v
	return v
}

func (e *exporter) NewCounterCtor(name string, keys ...string) service.MetricsExporterCounterCtor {
	v := e.get(name, keys, func(n string, k []string) *vec {
		return &vec{keys: k, counter: prom.NewCounterVec(prom.CounterOpts{Name: n, Help: n}, k)}
	}, func(v *vec) bool { return v.counter != nil })
	return func(values ...string) service.MetricsExporterCounter {
		if v == nil {
			return nop{}
		}
		return counter{v.counter.WithLabelValues(values...)}
	}
}

func (e *exporter) NewTimerCtor(name string, keys ...string) service.MetricsExporterTimerCtor {
	v := e.get(name, keys, func(n string, k []string) *vec {
		return &vec{keys: k, summary: prom.NewSummaryVec(prom.SummaryOpts{Name: n, Help: n + " (seconds)",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}}, k)}
	}, func(v *vec) bool { return v.summary != nil })
	return func(values ...string) service.MetricsExporterTimer {
		if v == nil {
			return nop{}
		}
		return timer{v.summary.WithLabelValues(values...)}
	}
}

func (e *exporter) NewGaugeCtor(name string, keys ...string) service.MetricsExporterGaugeCtor {
	v := e.get(name, keys, func(n string, k []string) *vec {
		return &vec{keys: k, gauge: prom.NewGaugeVec(prom.GaugeOpts{Name: n, Help: n}, k)}
	}, func(v *vec) bool { return v.gauge != nil })
	return func(values ...string) service.MetricsExporterGauge {
		if v == nil {
			return nop{}
		}
		return gauge{v.gauge.WithLabelValues(values...)}
	}
}

// DeleteSeriesPartialMatch drops the series of a removed stream.
func (e *exporter) DeleteSeriesPartialMatch(labels map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range e.vecs {
		if v == nil {
			continue
		}
		switch {
		case v.counter != nil:
			v.counter.DeletePartialMatch(labels)
		case v.gauge != nil:
			v.gauge.DeletePartialMatch(labels)
		default:
			v.summary.DeletePartialMatch(labels)
		}
	}
}

// HandlerFunc serves the metrics (Benthos mounts it on /metrics).
func (e *exporter) HandlerFunc() http.HandlerFunc {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}).ServeHTTP
}

func (e *exporter) Close(context.Context) error { return nil }

type counter struct{ c prom.Counter }

func (c counter) Incr(n int64)          { c.c.Add(float64(n)) }
func (c counter) IncrFloat64(n float64) { c.c.Add(n) }

type gauge struct{ g prom.Gauge }

func (g gauge) Set(v int64)          { g.g.Set(float64(v)) }
func (g gauge) SetFloat64(v float64) { g.g.Set(v) }

type timer struct{ s prom.Observer }

func (t timer) Timing(ns int64) { t.s.Observe(float64(ns) / 1e9) }

type nop struct{}

func (nop) Incr(int64)          {}
func (nop) IncrFloat64(float64) {}
func (nop) Set(int64)           {}
func (nop) SetFloat64(float64)  {}
func (nop) Timing(int64)        {}
