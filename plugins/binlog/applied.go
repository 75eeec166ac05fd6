package binlog

import (
	"context"
	"sync"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
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

// appliedTracker follows which source changes the output acknowledged: the
// batches handed out, in order, and the timestamp up to which every change
// read is acknowledged. While nothing is pending it follows the merge's
// frontier (the source's time ticks), so the time since it is the lag, and
// it stops moving when the task hangs.
type appliedTracker struct {
	mu      sync.Mutex
	pending []*appliedBatch
	until   uint64
	movedAt time.Time // when until last moved
}

type appliedBatch struct {
	maxTs uint64
	done  bool
}

// add registers a batch handed out whose newest change has timestamp maxTs.
func (t *appliedTracker) add(maxTs uint64) *appliedBatch {
	b := &appliedBatch{maxTs: maxTs}
	t.mu.Lock()
	t.pending = append(t.pending, b)
	t.mu.Unlock()
	return b
}

// ack records batch b acknowledged; until moves over the acknowledged prefix.
func (t *appliedTracker) ack(b *appliedBatch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b.done = true
	for len(t.pending) > 0 && t.pending[0].done {
		t.moveLocked(t.pending[0].maxTs)
		t.pending = t.pending[1:]
	}
}

// idle moves until to the merge's frontier when nothing is pending: no
// batch unacknowledged, nothing queued or held by the batch policy.
func (t *appliedTracker) idle(m *order.Merger, held bool) {
	if held {
		return
	}
	f, ok := m.Drained()
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) == 0 {
		t.moveLocked(f)
	}
}

func (t *appliedTracker) moveLocked(ts uint64) {
	if ts > t.until {
		t.until, t.movedAt = ts, time.Now()
	}
}

func (t *appliedTracker) get() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.until
}

// status is the input's status; nil until something was applied in this
// run (the stored one, of an earlier run, stays true meanwhile).
func (t *appliedTracker) status() any {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.until == 0 {
		return nil
	}
	return contract.InputStatus{AppliedUntil: t.until, MovedAt: t.movedAt.UTC(), UpdatedAt: time.Now().UTC()}
}

// publish sets the input's gauges and writes its status until ctx ends.
func (b *binlogInput) publish(ctx context.Context, r *binlogRun) {
	m := b.res.Metrics()
	lag, until, age := m.NewGauge(metricLag), m.NewGauge(metricAppliedUntil), m.NewGauge(metricCheckpointAge)
	rows, done, total := m.NewGauge(metricSnapshotRows), m.NewGauge(metricSnapshotDone), m.NewGauge(metricSnapshotTotal)
	go b.conf.status.Run(ctx, r.applied.status, b.log)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if u := r.applied.get(); u != 0 {
			at := contract.PhysicalTime(u)
			lag.SetFloat64(time.Since(at).Seconds())
			until.SetFloat64(float64(at.UnixMilli()) / 1000)
		}
		if w := r.ckpt.LastWrite(); !w.IsZero() {
			age.SetFloat64(time.Since(w).Seconds())
		}
		if s := r.ckpt.Snapshot(); s != nil {
			tot, dn, n := s.Progress()
			rows.Set(n)
			done.Set(int64(dn))
			total.Set(int64(tot))
		}
	}
}
