package apply

import (
	"maps"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Metric names of milvus_apply (Benthos adds the stream's labels: a task
// stream's label is the task).
const (
	metricRowsApplied  = "milvus_cdc_rows_applied_total"
	metricBytesApplied = "milvus_cdc_bytes_applied_total"
	metricRetries      = "milvus_cdc_apply_retries_total"
	metricErrors       = "milvus_cdc_apply_errors_total"
)

// applyStats counts what the output applied, for the metrics and the status
// it reports (contract.OutputStatus).
type applyStats struct {
	rows    *service.MetricCounter
	bytes   *service.MetricCounter
	retries *service.MetricCounter
	errors  *service.MetricCounter

	mu sync.Mutex
	st contract.OutputStatus
}

func newApplyStats(m *service.Metrics) *applyStats {
	return &applyStats{
		rows:    m.NewCounter(metricRowsApplied, "op"),
		bytes:   m.NewCounter(metricBytesApplied),
		retries: m.NewCounter(metricRetries),
		errors:  m.NewCounter(metricErrors),
		st:      contract.OutputStatus{RowsApplied: map[string]int64{}},
	}
}

// applied counts a step applied: its rows (inserts, deletes) or 1 (any
// other operation).
func (s *applyStats) applied(st *applyStep) {
	n := st.rows
	if st.op != contract.OpInsert && st.op != contract.OpDelete {
		n = 1
	}
	s.rows.Incr(n, st.op)
	s.bytes.Incr(int64(st.bytes))
	s.mu.Lock()
	s.st.RowsApplied[st.op] += n
	s.st.BytesApplied += int64(st.bytes)
	s.mu.Unlock()
}

// failed counts a failed attempt: a retry (permanent false) or an error
// that stops the output; msg is the error, credentials scrubbed, cut to
// 1 KiB.
func (s *applyStats) failed(msg string, permanent bool) {
	if len(msg) > 1024 {
		msg = msg[:1024] + "..."
	}
	if permanent {
		s.errors.Incr(1)
	} else {
		s.retries.Incr(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if permanent {
		s.st.Errors++
	} else {
		s.st.Retries++
	}
	s.st.LastError, s.st.LastErrorAt = msg, time.Now().UTC()
}

// status is a copy of the counts, stamped now.
func (s *applyStats) status() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.RowsApplied = maps.Clone(s.st.RowsApplied)
	st.UpdatedAt = time.Now().UTC()
	return st
}
