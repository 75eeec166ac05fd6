package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestStackInputRetriesUnreachable: with the source Milvus or Pulsar
// unreachable the input keeps retrying with backoff, and its log names the
// address it cannot reach.
func TestStackInputRetriesUnreachable(t *testing.T) {
	env := harness.RequireStack(t)
	cases := []struct{ name, pulsar, source, want string }{
		{"source Milvus", env.PulsarURL, "127.0.0.1:1", "127.0.0.1:1"},
		{"Pulsar", "pulsar://127.0.0.1:2", env.SourceAddr, "pulsar://127.0.0.1:2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &harness.SyncBuffer{}
			sb := service.NewStreamBuilder()
			sb.SetLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
			if err := sb.AddInputYAML(fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
    connect_timeout: 1s
  start_from: latest
`, tc.pulsar, tc.source)); err != nil {
				t.Fatal(err)
			}
			if err := sb.AddConsumerFunc(func(context.Context, *service.Message) error { return nil }); err != nil {
				t.Fatal(err)
			}
			defer startStream(t, sb)()
			harness.WaitFor(t, 60*time.Second, "two failed connection attempts naming "+tc.want, func() bool {
				n := 0
				for _, l := range strings.Split(logs.String(), "\n") {
					if strings.Contains(l, tc.want) {
						n++
					}
				}
				return n >= 2
			})
		})
	}
}

// TestStackInputRefusesFutureCheckpoint: a checkpoint past the newest message
// of its topic (from another cluster, or a recreated topic) stops the input
// with a clear error instead of waiting silently (Pulsar would drop every
// message before that position).
func TestStackInputRefusesFutureCheckpoint(t *testing.T) {
	env := harness.RequireStack(t)
	dir := t.TempDir()
	future := pulsar.NewMessageID(1<<40, 0, -1, -1).Serialize()
	ck, err := contract.EncodeCheckpoint(contract.CheckpointState{Positions: map[string][]byte{contract.DefaultTopics().DML(0): future}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "future"), ck, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &harness.SyncBuffer{}
	sb := service.NewStreamBuilder()
	sb.SetLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := sb.AddCacheYAML(fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir)); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddInputYAML(jsonInputYAML(env, "nothing_here", "  checkpoint_cache: ckpt\n  checkpoint_key: future\n")); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddConsumerFunc(func(context.Context, *service.Message) error { return nil }); err != nil {
		t.Fatal(err)
	}
	defer startStream(t, sb)()
	harness.WaitFor(t, 60*time.Second, "the error about the checkpoint", func() bool {
		return strings.Contains(logs.String(), "after the newest message Pulsar has")
	})
}
