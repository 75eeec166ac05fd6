package main

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// maxPolledBatches bounds the `id in [...]` list of one visibility query.
const maxPolledBatches = 256

// steadyResult is phase 4b: batches inserted on a fixed schedule.
type steadyResult struct {
	samples        []sample // one per batch: t0 = its insert returned, visible = its last id seen
	lost           int      // batches not visible within -visible-timeout
	rows           int
	insertSeconds  float64 // first insert sent → last insert returned
	maxBehindSched time.Duration
}

// runSteady writes o.steadyBatch rows every batch interval (o.steadyRate
// rows/s) for o.steadySeconds through write, while a poller finds when each
// batch's last id becomes visible in coll on tgt. Batch k is sent at start +
// k·interval, or at once when the previous write ran late (so the rate holds
// on average).
func runSteady(ctx context.Context, o *options, write func([]entity.Column) error, tgt client.Client, coll string, rng *rand.Rand) (steadyResult, error) {
	var r steadyResult
	interval, n := steadySchedule(o)
	batches := make([][]entity.Column, n) // built up front: the schedule must not wait on rand
	for k := range batches {
		batches[k] = workload.Rows(int64(steadyFirstID+k*o.steadyBatch), o.steadyBatch, o.dim, rng)
	}
	inserted := make(chan sample, n)
	polled := make(chan pollOutcome, 1)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { polled <- pollBatches(pctx, o, tgt, coll, inserted) }()

	start := time.Now()
	var insertErr error
	for k := range batches {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			if insertErr = sleepCtx(ctx, d); insertErr != nil {
				break
			}
		} else if -d > r.maxBehindSched {
			r.maxBehindSched = -d
		}
		sent := time.Now()
		if err := write(batches[k]); err != nil {
			insertErr = fmt.Errorf("steady write %d into %s: %w", k, coll, err)
			break
		}
		last := int64(steadyFirstID + (k+1)*o.steadyBatch - 1)
		inserted <- sample{id: last, sent: sent, t0: time.Now()}
		r.rows += o.steadyBatch
	}
	r.insertSeconds = time.Since(start).Seconds()
	close(inserted)
	if insertErr != nil {
		cancel()
		<-polled
		return r, insertErr
	}
	out := <-polled
	r.samples, r.lost = out.samples, out.lost
	return r, out.err
}

// steadySchedule is the steady phase's pace: one write of o.steadyBatch
// rows every interval, n writes in all.
func steadySchedule(o *options) (interval time.Duration, n int) {
	return time.Duration(float64(time.Second) * float64(o.steadyBatch) / float64(o.steadyRate)), o.steadyRate * o.steadySeconds / o.steadyBatch
}

// runSchedule writes the steady schedule through write without measuring
// anything (a background load), until it ends or ctx is done.
func runSchedule(ctx context.Context, o *options, write func([]entity.Column) error, rng *rand.Rand) error {
	return runScheduleFrom(ctx, o, write, rng, steadyFirstID)
}

// runScheduleFrom is runSchedule with keys from first on.
func runScheduleFrom(ctx context.Context, o *options, write func([]entity.Column) error, rng *rand.Rand, first int64) error {
	interval, n := steadySchedule(o)
	start := time.Now()
	for k := 0; k < n; k++ {
		if err := sleepCtx(ctx, time.Until(start.Add(time.Duration(k)*interval))); err != nil {
			return err
		}
		if err := write(workload.Rows(first+int64(k*o.steadyBatch), o.steadyBatch, o.dim, rng)); err != nil {
			return err
		}
	}
	return nil
}

type pollOutcome struct {
	samples []sample
	lost    int
	err     error
}

// pollBatches asks the target, every o.pollEvery, which of the pending
// batches' last ids it shows, until every inserted batch was seen or timed
// out. One query covers all pending batches, so a slow batch does not hold
// back the measurement of the next.
func pollBatches(ctx context.Context, o *options, tgt client.Client, coll string, inserted <-chan sample) pollOutcome {
	var out pollOutcome
	var pending []sample
	open := true
	for open || len(pending) > 0 {
		for drained := false; open && !drained; { // take what was inserted since the last poll
			select {
			case s, ok := <-inserted:
				if !ok {
					open = false
				} else {
					pending = append(pending, s)
				}
			default:
				drained = true
			}
		}
		if len(pending) > 0 {
			ask := pending[:min(len(pending), maxPolledBatches)]
			ids := make([]int64, len(ask))
			for i, s := range ask {
				ids[i] = s.id
			}
			asked := time.Now()
			seen, err := visibleIDs(ctx, tgt, coll, ids)
			now := time.Now()
			if err != nil {
				out.err = fmt.Errorf("steady poll: %w", err)
				return out
			}
			kept := pending[:0]
			for i, s := range pending {
				switch {
				case i >= len(ids): // not asked this time
					kept = append(kept, s)
				case seen[s.id]:
					s.asked, s.visible = asked, now
					out.samples = append(out.samples, s)
				case now.Sub(s.t0) > o.visibleTimeout:
					out.lost++
				default:
					kept = append(kept, s)
				}
			}
			pending = kept
		}
		if err := sleepCtx(ctx, o.pollEvery); err != nil {
			out.err = err
			return out
		}
	}
	return out
}
