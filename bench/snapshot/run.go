package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

const checkpointPrefix = "bench-snapshot:"

// result is what one run measured.
type result struct {
	fill          time.Duration // filling the source (not compared)
	direct        time.Duration // direct upserts: first sent → last returned
	directVisible time.Duration // … → count(*) showed every row
	copyStart     time.Duration // pipeline start → first page acknowledged
	copyDone      time.Duration // pipeline start → snapshot over (catching_up)
	equal         time.Duration // pipeline start → the target's count(*) equals the source's
	rowsCopied    int64
	peakRSSKiB    int64
}

func run(ctx context.Context, o *options) (*result, error) {
	tag := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000)
	db, coll, direct := "bench_snap_"+tag, "snap", "bench_snap_direct_"+tag
	srcAdmin, err := client.NewClient(ctx, client.Config{Address: o.source})
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer srcAdmin.Close()
	tgt, err := client.NewClient(ctx, client.Config{Address: o.target})
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer tgt.Close()
	if err := srcAdmin.CreateDatabase(ctx, db); err != nil {
		return nil, fmt.Errorf("create source database: %w", err)
	}
	src, err := client.NewClient(ctx, client.Config{Address: o.source, DBName: db})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	rdb := redis.NewClient(&redis.Options{Addr: o.redisAddr})
	defer rdb.Close()
	ckptKey := "ckpt-" + tag
	defer func() {
		bg := context.Background()
		_ = src.DropCollection(bg, coll)
		_ = srcAdmin.DropDatabase(bg, db)
		if t, err := client.NewClient(bg, client.Config{Address: o.target, DBName: db}); err == nil {
			_ = t.DropCollection(bg, coll)
			_ = t.Close()
		}
		_ = tgt.DropDatabase(bg, db)
		_ = tgt.DropCollection(bg, direct)
		rdb.Del(bg, checkpointPrefix+ckptKey)
	}()

	r := &result{}
	fmt.Fprintf(os.Stderr, "filling the source: %d rows of %d-d vectors ...\n", o.rows, o.dim)
	begin := time.Now()
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, o.dim), int32(o.shards)); err != nil {
		return nil, err
	}
	for first := 0; first < o.rows; first += o.batch {
		if _, err := src.Insert(ctx, coll, "", batch(o, first)...); err != nil {
			return nil, fmt.Errorf("fill the source: %w", err)
		}
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		return nil, err
	}
	r.fill = time.Since(begin)

	fmt.Fprintf(os.Stderr, "phase 1: upserting the same rows straight into the target (%d per call) ...\n", o.batch)
	if err := tgt.CreateCollection(ctx, workload.VectorSchema(direct, o.dim), int32(o.shards)); err != nil {
		return nil, err
	}
	if err := workload.IndexAndLoad(ctx, tgt, direct); err != nil {
		return nil, err
	}
	begin = time.Now()
	for first := 0; first < o.rows; first += o.batch {
		if _, err := tgt.Upsert(ctx, direct, "", batch(o, first)...); err != nil {
			return nil, fmt.Errorf("direct upsert: %w", err)
		}
	}
	r.direct = time.Since(begin)
	if err := waitCount(ctx, tgt, direct, int64(o.rows)); err != nil {
		return nil, err
	}
	r.directVisible = time.Since(begin)

	fmt.Fprintln(os.Stderr, "phase 2: the same rows copied by the snapshot of a milvus-cdc pipeline ...")
	dir, err := os.MkdirTemp("", "bench-snapshot-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := buildBinary(o, dir)
	if err != nil {
		return nil, err
	}
	cfg, err := writeConfig(o, dir, db+"."+coll, ckptKey)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	begin = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}()
	for r.copyDone == 0 {
		st, err := snapshotState(ctx, rdb, checkpointPrefix+ckptKey)
		if err == nil && st != nil {
			_, _, rows := st.Progress()
			if rows > 0 && r.copyStart == 0 {
				r.copyStart = time.Since(begin)
			}
			if !st.Copying() && st.State != "" {
				r.copyDone, r.rowsCopied = time.Since(begin), rows
			}
		}
		r.peakRSSKiB = max(r.peakRSSKiB, peakRSS(cmd.Process.Pid))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the snapshot did not end: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The pipeline made the target database.
	tgtDB, err := client.NewClient(ctx, client.Config{Address: o.target, DBName: db})
	if err != nil {
		return nil, err
	}
	defer tgtDB.Close()
	if err := waitCount(ctx, tgtDB, coll, int64(o.rows)); err != nil {
		return nil, err
	}
	r.equal = time.Since(begin)
	r.peakRSSKiB = max(r.peakRSSKiB, peakRSS(cmd.Process.Pid))
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	return r, nil
}

// batch is rows first..first+batch-1, the same every time they are asked for.
func batch(o *options, first int) []entity.Column {
	n := min(o.batch, o.rows-first)
	return workload.Rows(int64(first), n, o.dim, rand.New(rand.NewSource(int64(first))))
}

// waitCount polls a Strong count(*) until coll holds want rows.
func waitCount(ctx context.Context, c client.Client, coll string, want int64) error {
	for {
		res, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
		if err == nil && len(res) > 0 {
			if col, ok := res[0].(*entity.ColumnInt64); ok && len(col.Data()) > 0 && col.Data()[0] >= want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never held %d rows: %w (last error %v)", coll, want, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func snapshotState(ctx context.Context, rdb *redis.Client, key string) (*contract.SnapshotState, error) {
	b, err := rdb.Get(ctx, key).Bytes()
	if err != nil {
		return nil, err
	}
	ck, err := contract.ParseCheckpoint(b)
	if err != nil {
		return nil, err
	}
	return ck.Snapshot, nil
}

// peakRSS is VmHWM of a running process (KiB; 0 when unknown).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			_, _ = fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib
		}
	}
	return 0
}

func buildBinary(o *options, dir string) (string, error) {
	if o.bin != "" {
		return o.bin, nil
	}
	out := filepath.Join(dir, "milvus-cdc")
	cmd := exec.Command("go", "build", "-o", out, "github.com/milvus-cdc-benthos/milvus-cdc-benthos/cmd/milvus-cdc")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build milvus-cdc: %w", err)
	}
	return out, nil
}

func writeConfig(o *options, dir, pattern, key string) (string, error) {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	yaml := fmt.Sprintf(`# written by bench/snapshot
http:
  enabled: false
logger:
  level: INFO
input:
  milvus_binlog:
    pulsar_url: %s
    source:
      address: %s
    collections: [ %s ]
    stream_snapshot: true
    snapshot_max_batch_size: %d
    start_from: latest
    checkpoint_cache: positions
    checkpoint_key: %s
output:
  milvus_apply:
    address: %s
cache_resources:
  - label: positions
    redis:
      url: %s
      prefix: %s
`, q(o.pulsarURL), q(o.source), q(pattern), o.batch, q(key), q(o.target), q("redis://"+o.redisAddr), q(checkpointPrefix))
	path := filepath.Join(dir, "pipeline.yaml")
	return path, os.WriteFile(path, []byte(yaml), 0o644)
}
