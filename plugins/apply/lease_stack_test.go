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
	w := newWriter(t, fmt.Sprintf("address: %s\nretry_backoff: { initial_interval: 50ms, max_interval: 50ms }\nlease: { url: redis://%s, key: %q, ttl: 600ms, run: r1, store_prefix: %q }\n",
		serveFake(t, fake), redisAddr(), key, key+":"))
	return w, fake
}

// runningLease returns a fresh lease key whose current run is "r1" and a
// client of the stack's Redis; both are cleaned up when the test ends. The
// store the key belongs to (prefix key+":") has an identity, so an ended
// run is fenced (see lease.Run).
func runningLease(t *testing.T, name string) (string, *goredis.Client) {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	key := name + ":" + time.Now().Format("150405.000000")
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr()})
	t.Cleanup(func() {
		rdb.Del(context.Background(), key, key+":epoch", lease.RunKey(key), key+":"+contract.KeyStoreID)
		_ = rdb.Close()
	})
	if err := rdb.MSet(context.Background(), lease.RunKey(key), "r1", key+":"+contract.KeyStoreID, "s1").Err(); err != nil {
		t.Fatal(err)
	}
	return key, rdb
}

func redisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// TestLeaseOneWriter: a second writer of the same task waits in Connect
// until the first closes; a writer whose run was ended (the task paused or
// deleted) applies nothing, WriteBatch never reaches the target, and it never
// takes the lease again, not even once the lease expired.
func TestLeaseOneWriter(t *testing.T) {
	key, rdb := runningLease(t, "leaseapply")
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

	// The control plane ends the run (pause): b applies nothing more.
	if err := rdb.Del(ctx, lease.RunKey(key)).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // b's next renewal finds the run ended
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
	time.Sleep(700 * time.Millisecond) // the lease expired
	if held, _ := rdb.Exists(ctx, key).Result(); held != 0 {
		t.Fatal("the lease of an ended run is still held past its TTL")
	}
	if err := b.Connect(ctx); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("Connect of a writer whose run ended: %v, want ErrFenced", err)
	}
	_ = b.Close(ctx)
}

// TestLeaseLostMidRetries: a writer retrying an upsert the target rate-limits
// loses its lease (its run ends): no upsert reaches the target once the
// lease could have expired (the next writer may be applying by then), and
// every upsert was sent with a deadline inside the lease.
func TestLeaseLostMidRetries(t *testing.T) {
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	key, rdb := runningLease(t, "leasemidcall")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ttl = 900 * time.Millisecond
	w, fake := refusingWriter(t, "rate_limit", "retry_backoff: { initial_interval: 20ms, max_interval: 20ms }",
		fmt.Sprintf("lease: { url: redis://%s, key: %q, ttl: %s, run: r1, store_prefix: %q }", redisAddr(), key, ttl, key+":"))
	done := make(chan error, 1)
	go func() { done <- w.WriteBatch(ctx, oneInsert(t)) }()
	time.Sleep(time.Second) // retrying under rate limiting, lease renewed
	if n, _ := fake.calls(); len(n) < 3 {
		t.Fatalf("only %d upserts while retrying", len(n))
	}
	ended := time.Now()
	if err := rdb.Del(ctx, lease.RunKey(key)).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, service.ErrNotConnected) {
			t.Fatalf("WriteBatch after the lease was lost: %v, want ErrNotConnected", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WriteBatch still retrying after its lease was lost")
	}
	time.Sleep(2 * ttl)
	sent, deadlines := fake.calls()
	for i, at := range sent {
		if at.After(ended.Add(ttl)) {
			t.Errorf("upsert %d reached the target %s after the run ended, past the lease's TTL (%s)", i, at.Sub(ended), ttl)
		}
		if deadlines[i].IsZero() || deadlines[i].Sub(at) > ttl {
			t.Errorf("upsert %d was sent with deadline %v, %s after it arrived: not bounded by the lease (%s)", i, deadlines[i], deadlines[i].Sub(at), ttl)
		}
	}
	_ = w.Close(ctx)
}
