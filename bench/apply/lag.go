package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// Key ranges of the lag collection, so no phase overwrites another's rows.
const (
	warmupID      = 0
	sourceProbeID = 1_000
	singleFirstID = 1_000_000
	b2bFirstID    = 2_000_000
	steadyFirstID = 10_000_000
	// steadyLoadFirstID: the source's share of a loaded floor, written into a
	// collection that took a steady run already.
	steadyLoadFirstID = 20_000_000
)

// sample is one lag measurement: t0 = the source insert returned, visible =
// the target query that first showed the row (or the batch's last row)
// returned, asked = that query was sent. For the target alone, sent = its
// upsert was sent and t0 = it returned.
type sample struct {
	id                       int64
	sent, t0, asked, visible time.Time
}

func (s sample) lag() time.Duration { return s.visible.Sub(s.t0) }

// lagLow is the lower bound of the lag: the row was not necessarily visible
// before the query that showed it was sent.
func (s sample) lagLow() time.Duration { return s.asked.Sub(s.t0) }

// lagResult is phase 4.
type lagResult struct {
	readySeconds float64         // source create+index+load → copy loaded on the target and a row visible
	sourceSelf   []time.Duration // single inserts: returned → visible on the source itself
	single       []sample
	singleLost   int
	steady       steadyResult
	wal          *walObservation // nil with -observe=false
	ckpt         []time.Time     // when the pipeline's checkpoint changed (singles and steady)
	ckptErr      error           // why the checkpoint watcher stopped early
	mem          memSnapshot     // the pipeline process at the end of the phase
	spans        []span          // set-up and source probes; singles; steady
}

// runLag measures the lag on a live pipeline (p running, caught up).
func runLag(ctx context.Context, o *options, src, tgt client.Client, p *pipeline, coll, ckptKey string) (lagResult, error) {
	var r lagResult
	fmt.Fprintf(os.Stderr, "phase 4: creating %s on the source; waiting until its copy is loaded on the target ...\n", coll)
	begin := time.Now()
	if err := createLoaded(ctx, src, o, coll); err != nil {
		return r, fmt.Errorf("source: %w", err)
	}
	if err := waitTargetLoaded(ctx, tgt, coll, p, 3*time.Minute); err != nil {
		return r, err
	}
	// One untimed row end to end: the first check can otherwise meet caches
	// (names, collection info) that are still cold on the way.
	warm := *o
	warm.visibleTimeout = time.Minute
	rng := rand.New(rand.NewSource(3))
	if _, err := src.Insert(ctx, coll, "", workload.Rows(warmupID, 1, o.dim, rng)...); err != nil {
		return r, fmt.Errorf("warm-up insert into source %s: %w", coll, err)
	}
	if _, err := waitVisible(ctx, tgt, &warm, coll, warmupID); err != nil {
		return r, fmt.Errorf("warm-up row on the target: %w", err)
	}
	r.readySeconds = time.Since(begin).Seconds()

	var obs *walObserver
	if o.observe {
		var err error
		if obs, err = startObserver(ctx, o.pulsarURL, coll); err != nil {
			return r, err
		}
		defer obs.stop()
	}
	if o.probes > 0 {
		fmt.Fprintf(os.Stderr, "phase 4: %d single inserts, visibility on the source itself ...\n", o.probes)
		var err error
		r.sourceSelf, _, err = probeSelf(ctx, o, src, coll, sourceProbeID, func(cols []entity.Column) error {
			_, err := src.Insert(ctx, coll, "", cols...)
			return err
		})
		if err != nil {
			return r, fmt.Errorf("source: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "phase 4: %d single inserts, visibility on the target ...\n", o.single)
	cw := startCkptWatcher(ctx, o, ckptKey)
	defer cw.stop()
	r.spans = append(r.spans, span{"lag set-up, source alone", begin, time.Now()})
	var err error
	from := time.Now()
	if r.single, r.singleLost, err = runSingles(ctx, o, src, tgt, p, coll, rng); err != nil {
		return r, err
	}
	r.spans = append(r.spans, span{"single inserts", from, time.Now()})
	from = time.Now()
	fmt.Fprintf(os.Stderr, "phase 4: %d rows/s for %d s ...\n", o.steadyRate, o.steadySeconds)
	insert := func(cols []entity.Column) error {
		_, err := src.Insert(ctx, coll, "", cols...)
		return err
	}
	if r.steady, err = runSteady(ctx, o, insert, tgt, coll, rng); err != nil {
		return r, err
	}
	r.spans = append(r.spans, span{"steady", from, time.Now()})
	if obs != nil {
		r.wal = obs.stop()
	}
	r.ckpt, r.ckptErr = cw.stop()
	r.mem = p.memory()
	return r, p.failed()
}

// runSingles inserts one row at a time and waits for each on the target. A
// row not visible within -visible-timeout is counted as lost, not fatal.
func runSingles(ctx context.Context, o *options, src, tgt client.Client, p *pipeline, coll string, rng *rand.Rand) ([]sample, int, error) {
	var out []sample
	lost := 0
	for i := 0; i < o.single; i++ {
		id := int64(singleFirstID + i)
		if err := jitter(ctx, rng); err != nil {
			return out, lost, err
		}
		cols := workload.Rows(id, 1, o.dim, rng)
		if _, err := src.Insert(ctx, coll, "", cols...); err != nil {
			return out, lost, fmt.Errorf("single insert %d into source %s: %w", id, coll, err)
		}
		t0 := time.Now()
		seen, err := waitVisible(ctx, tgt, o, coll, id)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return out, lost, err
			}
			if perr := p.failed(); perr != nil {
				return out, lost, perr
			}
			fmt.Fprintf(os.Stderr, "single insert %d: %v\n", id, err)
			lost++
			continue
		}
		out = append(out, sample{id: id, t0: t0, asked: seen.asked, visible: seen.answered})
	}
	return out, lost, nil
}
