// Package e2e holds the tests that run against the real local stack
// (tests/stack/stack.sh): a source Milvus writing its WAL to Pulsar, a
// target Milvus, Redis and etcd.
package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

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
