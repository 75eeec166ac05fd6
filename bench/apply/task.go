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

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/plane"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// taskResult is phase 5: the lag through a task created with POST /cdc on a
// worker, as users run it, beside the target alone in the same phase. Both
// collections have o.taskShards shards and take inserts; visibility is polled
// as a client polls (Eventually, every -poll).
type taskResult struct {
	readySeconds float64  // create answered → the copy of a new collection loaded and a row visible
	single       []sample // source insert returned → visible on the target, random tick phase
	floorSingle  []sample // target insert, interleaved with single
	b2b          []sample // back to back: each insert right after the previous row showed
	floorB2B     []sample
	lost         int // rows (single, b2b) not visible within -visible-timeout
	steady       steadyResult
	floorSteady  steadyResult
	workerKiB    int64 // the worker's peak RSS (VmHWM); -1 unknown
}

// runTask starts a worker and a control plane, creates a `*` task with the
// documentation's request, creates the lag collection on the source at once
// and measures single and steady inserts through the task, each against the
// target alone measured in the same phase.
func runTask(ctx context.Context, o *options, src, tgt client.Client, bin string, n names) (r taskResult, err error) {
	r.workerKiB = -1
	pl, err := plane.Start(ctx, plane.Stack{Source: o.source, PulsarURL: o.pulsarURL, RedisAddr: o.redisAddr}, bin, n.label+":")
	if err != nil {
		return r, err
	}
	var id string
	defer func() {
		if id != "" {
			_, derr := pl.CDC(context.WithoutCancel(ctx), "delete", map[string]any{"task_id": id})
			err = errors.Join(err, derr)
		}
		r.workerKiB = pl.Stop()
	}()
	begin := time.Now()
	if id, err = pl.CreateTask(ctx, o.target); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "phase 5: task %s created through POST /cdc; %s on the source at once ...\n", id, n.task)
	if err := createLoadedShards(ctx, src, o, n.task, o.taskShards); err != nil {
		return r, fmt.Errorf("source: %w", err)
	}
	if err := waitTargetLoaded(ctx, tgt, n.task, nil, 3*time.Minute); err != nil {
		return r, err
	}
	rng := rand.New(rand.NewSource(6))
	warm := *o
	warm.visibleTimeout = time.Minute
	if _, err := src.Insert(ctx, n.task, "", workload.Rows(warmupID, 1, o.dim, rng)...); err != nil {
		return r, fmt.Errorf("warm-up insert into source %s: %w", n.task, err)
	}
	if _, err := waitVisible(ctx, tgt, &warm, n.task, warmupID); err != nil {
		return r, fmt.Errorf("warm-up row through the task: %w", err)
	}
	r.readySeconds = time.Since(begin).Seconds()
	if err := createLoadedShards(ctx, tgt, o, n.taskFloor, o.taskShards); err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	return r, measureTask(ctx, o, pl, id, src, tgt, n, rng, &r)
}

// measureTask runs the three measurements of phase 5 on a live task.
func measureTask(ctx context.Context, o *options, pl *plane.Plane, id string, src, tgt client.Client, n names, rng *rand.Rand, r *taskResult) error {
	ours := writer{c: src, coll: n.task, insert: true}
	floor := writer{c: tgt, coll: n.taskFloor, insert: true}
	var err error
	fmt.Fprintf(os.Stderr, "phase 5: %d single inserts through the task, each beside one into the target alone ...\n", o.single)
	if r.single, r.floorSingle, err = pairs(ctx, o, tgt, ours, floor, singleFirstID, o.single, rng, true, &r.lost); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "phase 5: %d pairs back to back (each write right after the previous row showed) ...\n", o.single)
	if r.b2b, r.floorB2B, err = pairs(ctx, o, tgt, ours, floor, b2bFirstID, o.single, rng, false, &r.lost); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "phase 5: %d rows/s through the task for %d s ...\n", o.steadyRate, o.steadySeconds)
	if r.steady, err = runSteady(ctx, o, ours.write(ctx), tgt, n.task, rng); err != nil {
		return fmt.Errorf("steady through the task: %w", err)
	}
	// The floor with both Milvus busy, as in the task's run: the task paused
	// (so it replicates nothing), the source takes the same schedule into
	// the task's collection while the target takes it into the floor's.
	if _, err := pl.CDC(ctx, "pause", map[string]any{"task_id": id}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "phase 5: task paused; the target alone at %d rows/s while the source takes as many inserts ...\n", o.steadyRate)
	if r.floorSteady, err = steadyBesideSource(ctx, o, ours, floor, tgt, steadyLoadFirstID); err != nil {
		return fmt.Errorf("steady into the target alone: %w", err)
	}
	return nil
}

// writer writes rows into one collection (insert or upsert).
type writer struct {
	c      client.Client
	coll   string
	insert bool
}

func (w writer) write(ctx context.Context) func([]entity.Column) error {
	return func(cols []entity.Column) error {
		var err error
		if w.insert {
			_, err = w.c.Insert(ctx, w.coll, "", cols...)
		} else {
			_, err = w.c.Upsert(ctx, w.coll, "", cols...)
		}
		return err
	}
}

// pairs takes count pairs of samples: one row through ours, one into floor
// (which of the two goes first alternates), each waited for on tgt. With
// jittered, each write waits a random part of a tick first; without, each
// follows the previous row's visibility at once, as a client polling in a
// loop does (its samples lock onto one phase of the tick cycles).
func pairs(ctx context.Context, o *options, tgt client.Client, ours, floor writer, first int64, count int, rng *rand.Rand, jittered bool, lost *int) (a, b []sample, err error) {
	for i := 0; i < count; i++ {
		order := []*[]sample{&a, &b}
		ws := []writer{ours, floor}
		if i%2 == 1 {
			order[0], order[1], ws[0], ws[1] = order[1], order[0], ws[1], ws[0]
		}
		for k, w := range ws {
			if jittered {
				if err := jitter(ctx, rng); err != nil {
					return a, b, err
				}
			}
			s, ok, err := oneRow(ctx, o, tgt, w, first+int64(i), rng)
			if err != nil {
				return a, b, err
			}
			if !ok {
				*lost++
				continue
			}
			*order[k] = append(*order[k], s)
		}
	}
	return a, b, nil
}

// oneRow writes row id through w and waits until tgt shows it in w.coll.
func oneRow(ctx context.Context, o *options, tgt client.Client, w writer, id int64, rng *rand.Rand) (sample, bool, error) {
	cols := workload.Rows(id, 1, o.dim, rng)
	sent := time.Now()
	if err := w.write(ctx)(cols); err != nil {
		return sample{}, false, fmt.Errorf("write %d into %s: %w", id, w.coll, err)
	}
	t0 := time.Now()
	seen, err := waitVisible(ctx, tgt, o, w.coll, id)
	if err != nil {
		if ctx.Err() != nil {
			return sample{}, false, ctx.Err()
		}
		fmt.Fprintf(os.Stderr, "row %d of %s: %v\n", id, w.coll, err)
		return sample{}, false, nil
	}
	return sample{id: id, sent: sent, t0: t0, asked: seen.asked, visible: seen.answered}, true, nil
}
