package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// results collects every phase for the report.
type results struct {
	started  time.Time
	direct   directResult
	floor    floorResult
	repl     replResult
	lag      lagResult
	task     *taskResult // nil with -task=false
	ampl     amplification
	phaseSec map[string]float64 // wall time of each phase
	peakKiB  int64
	perChild []childRSS
	mem      *memSeries
}

// run does the phases in order (1 direct, 2 replication, 4 lag; the ratio,
// 3, is computed), prints the report and always cleans up after itself.
func run(ctx context.Context, o *options) (err error) {
	n := newNames(time.Now())
	tmp, err := os.MkdirTemp("", "bench-apply-*")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin, err := buildBinary(o, tmp)
	if err != nil {
		return err
	}
	cfg, err := writeConfig(o, n, tmp)
	if err != nil {
		return err
	}
	src, err := workload.Connect(ctx, o.source)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	tgt, err := workload.Connect(ctx, o.target)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer tgt.Close()

	p := newPipeline(bin, cfg)
	defer func() {
		// Stop the pipeline before dropping, so it does not replay the drops.
		err = errors.Join(err, p.stop(stopGrace), cleanup(o, n))
	}()

	res := &results{started: time.Now(), phaseSec: map[string]float64{}}
	fmt.Fprintf(os.Stderr, "bench %s: building the dataset (%d rows, %d-d) ...\n", n.label, o.rows, o.dim)
	d := newDataset(o, o.batch)
	if err := runPipelinePhases(ctx, o, src, tgt, p, n, d, res); err != nil {
		return err
	}
	res.peakKiB, res.perChild, res.mem = p.peakKiB, p.perChild, &p.mem
	if o.task {
		if err := runTaskPhase(ctx, o, src, tgt, bin, n, res); err != nil {
			return err
		}
	}
	printReport(os.Stdout, o, d, res)
	return nil
}

// runPipelinePhases are phases 1-4: the target alone, then the pipeline
// (`milvus-cdc run`), which is stopped at the end.
func runPipelinePhases(ctx context.Context, o *options, src, tgt client.Client, p *pipeline, n names, d *dataset, res *results) error {
	if err := timed(res, "direct", func() (e error) { res.direct, e = runDirect(ctx, o, tgt, n.direct, d); return }); err != nil {
		return fmt.Errorf("phase 1 (direct): %w", err)
	}
	if o.probes > 0 {
		if err := timed(res, "floor", func() (e error) { res.floor, e = runFloor(ctx, o, src, tgt, n.floor); return }); err != nil {
			return fmt.Errorf("phase 1 (target alone): %w", err)
		}
		if err := dropOn(ctx, tgt, "target", n.floor); err != nil {
			return err
		}
	}
	if err := timed(res, "replication", func() (e error) { res.repl, e = runReplication(ctx, o, src, tgt, p, n, d); return }); err != nil {
		return fmt.Errorf("phase 2 (replication): %w", err)
	}
	res.ampl = measureAmplification(ctx, o, n.repl)
	if err := dropReplicated(ctx, src, tgt, n.repl); err != nil {
		return err
	}
	if err := timed(res, "lag", func() (e error) { res.lag, e = runLag(ctx, o, src, tgt, p, n.lag, n.checkpointKey); return }); err != nil {
		return fmt.Errorf("phase 4 (lag): %w", err)
	}
	if err := p.stop(stopGrace); err != nil {
		return err
	}
	return nil
}

// runTaskPhase is phase 5, after the pipeline stopped: the task's `*`
// would otherwise meet the pipeline's copy of _lag on the target as someone
// else's, so _lag goes first.
func runTaskPhase(ctx context.Context, o *options, src, tgt client.Client, bin string, n names, res *results) error {
	if err := errors.Join(dropOn(ctx, src, "source", n.lag), dropOn(ctx, tgt, "target", n.lag)); err != nil {
		return err
	}
	var tr taskResult
	if err := timed(res, "task", func() (e error) { tr, e = runTask(ctx, o, src, tgt, bin, n); return }); err != nil {
		return fmt.Errorf("phase 5 (task): %w", err)
	}
	res.task = &tr
	return nil
}

func timed(res *results, phase string, f func() error) error {
	begin := time.Now()
	err := f()
	res.phaseSec[phase] = time.Since(begin).Seconds()
	return err
}

// cleanup drops every collection of this run on both sides (the ones that
// do not exist are skipped) and removes the checkpoint key. It uses its own
// context so it still runs after Ctrl-C.
func cleanup(o *options, n names) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for _, side := range []struct {
		name, addr string
		colls      []string
	}{
		{"source", o.source, []string{n.repl, n.lag, n.floor + "_loaded", n.task}},
		{"target", o.target, []string{n.floor, n.floor + "_loaded", n.repl, n.lag, n.task, n.taskFloor}},
	} {
		c, err := workload.Connect(ctx, side.addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", side.name, err))
			continue
		}
		colls := side.colls
		if side.name == "target" {
			// Phase 1 names its collections by batch size.
			if all, err := c.ListCollections(ctx); err == nil {
				for _, coll := range all {
					if strings.HasPrefix(coll.Name, n.direct) {
						colls = append(colls, coll.Name)
					}
				}
			}
		}
		for _, coll := range colls {
			errs = append(errs, dropOn(ctx, c, side.name, coll))
		}
		_ = c.Close()
	}
	errs = append(errs, deleteCheckpoint(o, n.checkpointKey))
	return errors.Join(errs...)
}

// dropOn drops coll if it exists.
func dropOn(ctx context.Context, c client.Client, side, coll string) error {
	ok, err := c.HasCollection(ctx, coll)
	if err != nil {
		return fmt.Errorf("%s: has collection %s: %w", side, coll, err)
	}
	if !ok {
		return nil
	}
	if err := c.DropCollection(ctx, coll); err != nil {
		return fmt.Errorf("%s: drop %s: %w", side, coll, err)
	}
	return nil
}
