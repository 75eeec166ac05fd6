package main

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/plane"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

const dim = 128

// bench is one run: the control plane's URL, both Milvus, the collection
// and the task replicating it.
type bench struct {
	o          options
	pl         *plane.Plane
	src, tgt   client.Client
	coll, task string
}

// run starts the worker and the control plane, creates the task and the
// collection, and returns how long each round's backlog took.
func run(o options) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	pl, err := plane.Start(ctx, plane.Stack{Source: o.source, PulsarURL: o.pulsar, RedisAddr: o.redis}, o.bin,
		"bench-resume-"+fmt.Sprint(time.Now().Unix())+":")
	if err != nil {
		return nil, err
	}
	defer pl.Stop()
	b := &bench{o: o, pl: pl, coll: fmt.Sprintf("bench_resume_%d", time.Now().Unix())}
	if b.src, err = workload.Connect(ctx, o.source); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer b.src.Close()
	if b.tgt, err = workload.Connect(ctx, o.target); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer b.tgt.Close()
	defer func() {
		_ = b.src.DropCollection(context.Background(), b.coll)
		_ = b.tgt.DropCollection(context.Background(), b.coll)
	}()
	if b.task, err = pl.CreateTask(ctx, o.target, b.coll); err != nil {
		return nil, err
	}
	defer func() { _, _ = pl.CDC(context.Background(), "delete", map[string]any{"task_id": b.task}) }()
	time.Sleep(3 * time.Second)
	if err := b.createCollection(ctx); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(1))
	var took []time.Duration
	for r := 0; r < o.rounds; r++ {
		d, err := b.round(ctx, r, rng)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w (task as get shows it: %s)", r, err, b.describeTask())
		}
		took = append(took, d)
	}
	return took, nil
}

// createCollection creates, indexes and loads the source collection and
// waits until the task made its copy queryable on the target.
func (b *bench) createCollection(ctx context.Context) error {
	if err := b.src.CreateCollection(ctx, workload.VectorSchema(b.coll, dim), 2); err != nil {
		return fmt.Errorf("create %s: %w", b.coll, err)
	}
	if err := workload.IndexAndLoad(ctx, b.src, b.coll); err != nil {
		return fmt.Errorf("index and load %s: %w", b.coll, err)
	}
	for i := 0; ; i++ {
		if _, err := count(ctx, b.tgt, b.coll); err == nil {
			return nil
		}
		if i > 600 {
			return fmt.Errorf("the target copy of %s never became queryable", b.coll)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// round pauses the task, inserts -rows rows, checks the target did not
// change, resumes and times until the target shows every row.
func (b *bench) round(ctx context.Context, r int, rng *rand.Rand) (time.Duration, error) {
	if _, err := b.pl.CDC(ctx, "pause", map[string]any{"task_id": b.task}); err != nil {
		return 0, err
	}
	time.Sleep(time.Second) // the stream is gone
	if err := workload.InsertRows(ctx, b.src, b.coll, int64(r*b.o.rows), b.o.rows, b.o.rows, dim, rng); err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	want := (r + 1) * b.o.rows
	time.Sleep(time.Second)
	if n, err := count(ctx, b.tgt, b.coll); err != nil || n != want-b.o.rows {
		return 0, fmt.Errorf("the target changed while paused (%d rows, %v)", n, err)
	}
	t0 := time.Now()
	if _, err := b.pl.CDC(ctx, "resume", map[string]any{"task_id": b.task}); err != nil {
		return 0, err
	}
	for {
		n, err := count(ctx, b.tgt, b.coll)
		if err == nil && n >= want {
			return time.Since(t0), nil
		}
		if time.Since(t0) > time.Minute {
			return 0, fmt.Errorf("backlog not on the target after a minute (%d rows, %v)", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// describeTask is the task as the control plane's get shows it (state,
// reason, last error), to say why a round failed.
func (b *bench) describeTask() string {
	data, err := b.pl.CDC(context.Background(), "get", map[string]any{"task_id": b.task})
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(data)
}

func count(ctx context.Context, c client.Client, coll string) (int, error) {
	rs, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClEventually))
	if err != nil {
		return 0, err
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() == 0 {
		return 0, fmt.Errorf("no count(*) column")
	}
	return int(col.Data()[0]), nil
}
