package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
)

// counter sums what the stream delivers and says when all rows are through.
type counter struct {
	target int64
	begin  time.Time

	mu       sync.Mutex
	res      result
	finished chan struct{} // closed when target rows were delivered
}

func (c *counter) consume(_ context.Context, batch service.MessageBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.res.FirstSeconds == 0 {
		c.res.FirstSeconds = time.Since(c.begin).Seconds()
	}
	for _, m := range batch {
		b, err := m.AsBytes()
		if err != nil {
			return fmt.Errorf("message body: %w", err)
		}
		c.res.Messages++
		c.res.Bytes += int64(len(b))
		if op, _ := m.MetaGet("milvus_op"); op != "insert" {
			continue
		}
		s, _ := m.MetaGet("milvus_rows")
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("milvus_rows %q of an insert: %w", s, err)
		}
		c.res.Rows += n
	}
	if c.res.Rows >= c.target && c.res.Seconds == 0 {
		c.res.Seconds = time.Since(c.begin).Seconds()
		close(c.finished)
	}
	return nil
}

// runInput runs milvus_binlog in-process, starting from a checkpoint that
// holds the positions before the fill, until every inserted row came out.
func runInput(ctx context.Context, o *options, p *plan) (result, error) {
	stream, c, err := buildInputStream(o, p)
	if err != nil {
		return result{}, err
	}
	stopProfile := func() {}
	if o.cpuProfile != "" {
		if stopProfile, err = startCPUProfile(o.cpuProfile); err != nil {
			return result{}, err
		}
	}
	defer stopProfile() // on the error paths; idempotent
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	c.begin = time.Now()
	go func() { runErr <- stream.Run(runCtx) }()

	select {
	case <-c.finished:
	case err := <-runErr:
		return result{}, fmt.Errorf("stream stopped before all rows were read: %w", err)
	case <-ctx.Done():
		return result{}, fmt.Errorf("gave up: %w", ctx.Err())
	}
	stopProfile() // profile the reading, not the shutdown
	cancel()
	// Shutdown is not measured, but wait for it so readers close cleanly.
	select {
	case err := <-runErr:
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "stream shutdown:", err)
		}
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "stream shutdown: still running after 30s, leaving it")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.res
	r.Marker = roleInput
	return r, nil
}

func buildInputStream(o *options, p *plan) (*service.Stream, *counter, error) {
	ckpt, err := p.checkpointJSON()
	if err != nil {
		return nil, nil, err
	}
	cacheYAML := fmt.Sprintf(`
label: start
memory:
  init_values:
    bench: %s
`, yamlString(ckpt))
	inputYAML := fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
  collections: [ %s ]
  format: protobuf
  start_from: checkpoint
  checkpoint_cache: start
  checkpoint_key: bench
`, yamlString(o.pulsarURL), yamlString(o.source), yamlString("default."+p.Collection))

	sb := service.NewStreamBuilder()
	if err := sb.SetLoggerYAML("level: WARN"); err != nil {
		return nil, nil, fmt.Errorf("logger config: %w", err)
	}
	if err := sb.AddCacheYAML(cacheYAML); err != nil {
		return nil, nil, fmt.Errorf("cache config: %w", err)
	}
	if err := sb.AddInputYAML(inputYAML); err != nil {
		return nil, nil, fmt.Errorf("input config: %w", err)
	}
	c := &counter{target: int64(o.rows), finished: make(chan struct{})}
	if err := sb.AddBatchConsumerFunc(c.consume); err != nil {
		return nil, nil, fmt.Errorf("consumer: %w", err)
	}
	stream, err := sb.Build()
	if err != nil {
		return nil, nil, fmt.Errorf("build stream: %w", err)
	}
	return stream, c, nil
}

// yamlString quotes s for YAML: a JSON string is a valid double-quoted YAML
// scalar, whatever it contains.
func yamlString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}, nil
}
