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

// leasedWriter is an output holding the lease of task t1 of the store with
// prefix on the stack's Redis, connected to an in-process target that is
// never ready (skipped without the stack).
func leasedWriter(t *testing.T, prefix string) (*applyWriter, *notReadyMilvus) {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	fake := &notReadyMilvus{described: make(chan struct{}, 1)}
	w := storeWriter(t, fmt.Sprintf("address: %s\nretry_backoff: { initial_interval: 50ms, max_interval: 50ms }\n%s\n",
		serveFake(t, fake), taskStoreYAML(prefix, 600*time.Millisecond)))
	return w, fake
}

// taskStoreYAML is the task_store block of task t1, run r1, in the stack's
// Redis under prefix.
func taskStoreYAML(prefix string, ttl time.Duration) string {
	return fmt.Sprintf("task_store: { cache: store, task: t1, run: r1, lease_ttl: %s, redis: { url: redis://%s, prefix: %q } }", ttl, redisAddr(), prefix)
}

// storeWriter builds an output (not connected) with the task store's cache
// resource "store".
func storeWriter(t *testing.T, yaml string) *applyWriter {
	t.Helper()
	conf, err := milvusApplyOutputSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := milvusApplyOutputFromParsed(conf, service.MockResources(service.MockResourcesOptAddCache("store")))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// runningLease returns a fresh store prefix, the lease key of its task t1,
// whose current run is "r1", and a client of the stack's Redis; all are
// cleaned up when the test ends. The store has an identity, so an ended run
// is fenced (see lease.Run).
func runningLease(t *testing.T, name string) (string, string, *goredis.Client) {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	prefix := name + ":" + time.Now().Format("150405.000000") + ":"
	key := prefix + contract.LeaseKey("t1")
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr()})
	t.Cleanup(func() {
		rdb.Del(context.Background(), key, key+":epoch", lease.RunKey(key), prefix+contract.KeyStoreID)
		_ = rdb.Close()
	})
	if err := rdb.MSet(context.Background(), lease.RunKey(key), "r1", prefix+contract.KeyStoreID, "s1").Err(); err != nil {
		t.Fatal(err)
	}
	return prefix, key, rdb
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
	prefix, key, rdb := runningLease(t, "leaseapply")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a, _ := leasedWriter(t, prefix)
	if err := a.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	b, fakeB := leasedWriter(t, prefix)
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
	prefix, key, rdb := runningLease(t, "leasemidcall")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ttl = 900 * time.Millisecond
	fake := &refusingTarget{fakeTarget: newFakeTarget(), how: "rate_limit"}
	fake.addCopy("default", "c", 7)
	w := storeWriter(t, fmt.Sprintf("address: %s\nconnect_timeout: 5s\nreplication_id: r1\nretry_backoff: { initial_interval: 20ms, max_interval: 20ms }\n%s\n",
		serveFake(t, fake), taskStoreYAML(prefix, ttl)))
	if err := w.Connect(ctx); err != nil {
		t.Fatal(err)
	}
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
