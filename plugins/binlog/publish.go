package binlog

import (
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Metric names of milvus_binlog (Benthos adds the stream's labels: a task
// stream's label is the task).
const (
	metricLag           = "milvus_cdc_replication_lag_seconds"
	metricAppliedUntil  = "milvus_cdc_applied_until_seconds"
	metricCheckpointAge = "milvus_cdc_checkpoint_age_seconds"
	metricSnapshotRows  = "milvus_cdc_snapshot_rows_copied"
	metricSnapshotDone  = "milvus_cdc_snapshot_collections_done"
	metricSnapshotTotal = "milvus_cdc_snapshot_collections_total"
)

// publish sets the input's gauges and writes its status until the run ends.
// The applied time is the ack tracker's: it moves over the acknowledged
// batches in order and, while nothing is in flight, with the source's time
// ticks, so the time since it is the lag, and it stops when the task hangs.
func (r *run) publish() {
	ctx := r.life.ctx
	m := r.in.res.Metrics()
	lag, until, age := m.NewGauge(metricLag), m.NewGauge(metricAppliedUntil), m.NewGauge(metricCheckpointAge)
	rows, done, total := m.NewGauge(metricSnapshotRows), m.NewGauge(metricSnapshotDone), m.NewGauge(metricSnapshotTotal)
	go r.in.conf.status.Run(ctx, r.acks.Status, r.in.log)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if u := r.acks.AppliedUntil(); u != 0 {
			at := contract.PhysicalTime(u)
			lag.SetFloat64(time.Since(at).Seconds())
			until.SetFloat64(float64(at.UnixMilli()) / 1000)
		}
		if w := r.acks.LastWrite(); !w.IsZero() {
			age.SetFloat64(time.Since(w).Seconds())
		}
		if s := r.acks.Snapshot(); s != nil {
			tot, dn, n := s.Progress()
			rows.Set(n)
			done.Set(int64(dn))
			total.Set(int64(tot))
		}
	}
}
