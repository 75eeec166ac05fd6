// Package e2e holds the tests that run against the real local stack
// (tests/stack/stack.sh): a source Milvus writing its WAL to Pulsar, a
// target Milvus, Redis and etcd.
package e2e

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// stackEnv holds the stack's addresses (from `tests/stack/stack.sh env`).
type stackEnv struct {
	SourceAddr, TargetAddr, PulsarURL, RedisAddr string
}

// requireStack returns the stack's addresses. With MILVUS_CDC_STACK=1 (set by
// `make test`) a missing stack fails the test; without it the test is skipped,
// so `go test ./...` stays usable without the stack.
func requireStack(t *testing.T) stackEnv {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("stack tests need the local stack: run `make test` (or set MILVUS_CDC_STACK=1 after `tests/stack/stack.sh up`)")
	}
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	return stackEnv{
		SourceAddr: get("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"),
		TargetAddr: get("MILVUS_TARGET_ADDR", "127.0.0.1:19540"),
		PulsarURL:  get("PULSAR_URL", "pulsar://127.0.0.1:6650"),
		RedisAddr:  get("REDIS_ADDR", "127.0.0.1:6379"),
	}
}

func connect(t *testing.T, addr string) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := workload.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// uniqueName gives each test run its own collection names.
func uniqueName(prefix string) string {
	return prefix + "_" + time.Now().Format("150405") + "_" + randSuffix()
}

func randSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	n := time.Now().UnixNano()
	b := make([]byte, 4)
	for i := range b {
		b[i] = letters[n%26]
		n /= 26
	}
	return string(b)
}

// startStream builds and runs a stream until the test ends; the returned
// func stops it gracefully (in-flight acknowledgements reach the checkpoint
// cache first) and may be called more than once.
func startStream(t *testing.T, sb *service.StreamBuilder) func() {
	t.Helper()
	stream, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stream.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = stream.StopWithin(20 * time.Second)
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}
