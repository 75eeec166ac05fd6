package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// notReadyMilvus accepts connections and answers every DescribeCollection
// "not ready", a transient error: the output retries it with backoff.
type notReadyMilvus struct {
	milvuspb.UnimplementedMilvusServiceServer
	described chan struct{}
}

func (*notReadyMilvus) Connect(context.Context, *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{Status: &commonpb.Status{}, ServerInfo: &commonpb.ServerInfo{}}, nil
}

func (m *notReadyMilvus) DescribeCollection(context.Context, *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	select {
	case m.described <- struct{}{}:
	default:
	}
	return &milvuspb.DescribeCollectionResponse{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_NotReadyServe, Reason: "not ready"}}, nil
}

// connectedWriter returns an output connected to an in-process target that
// is never ready; its retry backoff is an hour unless extraYAML says more.
func connectedWriter(t *testing.T, extraYAML ...string) (*applyWriter, *notReadyMilvus) {
	t.Helper()
	fake := &notReadyMilvus{described: make(chan struct{}, 1)}
	if len(extraYAML) == 0 {
		extraYAML = []string{"retry_backoff: { initial_interval: 1h, max_interval: 1h }"}
	}
	return writerFor(t, fake, extraYAML...), fake
}

// writerFor returns an output connected to fake served in-process.
func writerFor(t *testing.T, fake milvuspb.MilvusServiceServer, extraYAML ...string) *applyWriter {
	t.Helper()
	w := newWriter(t, fmt.Sprintf("address: %s\nconnect_timeout: 5s\n%s\n", serveFake(t, fake), strings.Join(extraYAML, "\n")))
	if err := w.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// serveFake serves fake in-process until the test ends and returns its
// address.
func serveFake(t *testing.T, fake milvuspb.MilvusServiceServer) net.Addr {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	milvuspb.RegisterMilvusServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr()
}

// newWriter builds an output (not connected) from its YAML config.
func newWriter(t *testing.T, yaml string) *applyWriter {
	t.Helper()
	conf, err := milvusApplyOutputSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := milvusApplyOutputFromParsed(conf, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCloseEndsStuckWriteBatch: Close returns within its deadline while a
// WriteBatch waits to retry a target that is not ready, and that WriteBatch
// returns (nothing acknowledged, no permanent failure recorded).
func TestCloseEndsStuckWriteBatch(t *testing.T) {
	w, fake := connectedWriter(t)
	msg := walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}),
		map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7"})
	written := make(chan error, 1)
	go func() { written <- w.WriteBatch(context.Background(), service.MessageBatch{msg}) }()
	select {
	case <-fake.described:
	case <-time.After(10 * time.Second):
		t.Fatal("WriteBatch never reached the target")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := w.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s, past its deadline", d)
	}
	select {
	case err := <-written:
		if err == nil {
			t.Error("WriteBatch reported success for a batch it did not apply")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WriteBatch still running after Close")
	}
	if w.failed != nil {
		t.Errorf("shutdown recorded a permanent failure: %v", w.failed)
	}
	if w.target != nil {
		t.Error("the client was not closed")
	}
	if err := w.Connect(context.Background()); !errors.Is(err, errClosed) {
		t.Errorf("Connect after Close: %v", err)
	}
}

// TestCloseGivesUpAtDeadline: when a write holds the mutex past Close's
// deadline, Close returns ctx's error in time, and the write closes the
// client when it ends.
func TestCloseGivesUpAtDeadline(t *testing.T) {
	w, _ := connectedWriter(t)
	if err := w.mu.LockCtx(context.Background()); err != nil { // a write that ignores cancellation
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want the deadline's error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s", d)
	}
	w.release()
	if w.target != nil {
		t.Error("the write did not close the client after Close gave up")
	}
}

// TestRetryLimitTurnsPermanent: a change that keeps failing transiently is
// retried for max_retry_duration, then the output stops for good with the
// last error (a task turns Failed with it instead of showing Running).
func TestRetryLimitTurnsPermanent(t *testing.T) {
	w, _ := connectedWriter(t, "retry_backoff: { initial_interval: 20ms, max_interval: 50ms }", "max_retry_duration: 300ms")
	msg := walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}),
		map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := w.WriteBatch(ctx, service.MessageBatch{msg})
	if err == nil || !strings.Contains(err.Error(), "still failing after") || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("WriteBatch: %v, want the permanent retry-limit error with the last error", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("gave up after %s, before max_retry_duration", d)
	}
	if w.failed == nil {
		t.Error("no permanent failure recorded")
	}
	_ = w.Close(ctx)
}
