package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// leasedWriter is an output with a lease on the stack's Redis, connected to
// an in-process target that is never ready (skipped without the stack).
func leasedWriter(t *testing.T, key string) (*applyWriter, *notReadyMilvus) {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	fake := &notReadyMilvus{described: make(chan struct{}, 1)}
	w := newWriter(t, fmt.Sprintf("address: %s\nretry_backoff: { initial_interval: 50ms, max_interval: 50ms }\nlease: { url: redis://%s, key: %q, ttl: 600ms }\n",
		serveFake(t, fake), redisAddr(), key))
	return w, fake
}

func redisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// TestLeaseOneWriter: a second writer of the same task waits in Connect
// until the first closes; a writer whose lease was revoked (or taken over)
// applies nothing: WriteBatch never reaches the target.
func TestLeaseOneWriter(t *testing.T) {
	key := "leaseapply:" + time.Now().Format("150405.000000")
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr()})
	defer rdb.Close()
	defer rdb.Del(context.Background(), key, key+":epoch")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a, _ := leasedWriter(t, key)
	if err := a.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	b, fakeB := leasedWriter(t, key)
	connected := make(chan error, 1)
	go func() { connected <- b.Connect(ctx) }()
	select {
	case err := <-connected:
		t.Fatalf("a second writer connected while the first held the lease: %v", err)
	case <-time.After(time.Second):
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-connected:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second writer did not get the released lease")
	}

	// The control plane revokes b's lease: b applies nothing more.
	if err := lease.Revoke(ctx, rdb, key, time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // b's next renewal finds it gone
	msg := walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}),
		map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7"})
	if err := b.WriteBatch(ctx, service.MessageBatch{msg}); !errors.Is(err, service.ErrNotConnected) {
		t.Fatalf("write without the lease: %v, want ErrNotConnected", err)
	}
	select {
	case <-fakeB.described:
		t.Fatal("a writer without the lease called the target")
	default:
	}
	_ = b.Close(ctx)
}
