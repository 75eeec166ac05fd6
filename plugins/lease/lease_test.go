package lease

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// stackRedis is the stack's Redis (skipped without MILVUS_CDC_STACK=1).
func stackRedis(t *testing.T) *goredis.Client {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return goredis.NewClient(&goredis.Options{Addr: addr})
}

// TestOneHolderAtATime: a second writer waits for the first; after a
// release it gets the lease with a higher epoch; a writer whose run was ended
// loses the lease at its next renewal and can never take it again (not even
// once it expired), while a writer of the new run can.
func TestOneHolderAtATime(t *testing.T) {
	admin := stackRedis(t)
	defer admin.Close()
	key := "leasetest:" + time.Now().Format("150405.000000")
	idKey := key + ":" + contract.KeyStoreID
	defer admin.Del(context.Background(), key, key+":epoch", RunKey(key), idKey)
	log := service.MockResources().Logger()
	ctx := context.Background()
	ttl := 600 * time.Millisecond
	if err := admin.MSet(ctx, RunKey(key), "r1", idKey, "s1").Err(); err != nil {
		t.Fatal(err)
	}
	r1, r2 := Run{ID: "r1", StoreIDKey: idKey}, Run{ID: "r2", StoreIDKey: idKey}
	a, err := Acquire(ctx, stackRedis(t), key, ttl, r1, log)
	if err != nil || a.Valid() != nil {
		t.Fatalf("first acquire: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, ttl)
	if _, err := Acquire(short, stackRedis(t), key, ttl, r1, log); err == nil {
		t.Fatal("a second writer got a held lease")
	}
	cancel()
	time.Sleep(ttl) // a keeps renewing
	if err := a.Valid(); err != nil {
		t.Fatalf("renewed lease invalid: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := Acquire(ctx, stackRedis(t), key, ttl, r1, log)
	if err != nil || b.Epoch() <= a.Epoch() {
		t.Fatalf("after release: %v, epoch %d after %d", err, b.Epoch(), a.Epoch())
	}
	// The control plane starts run r2 (r1 is paused, moved or deleted).
	if err := admin.Set(ctx, RunKey(key), "r2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl / 2) // b's next renewal fails
	if err := b.Valid(); err != ErrLost {
		t.Fatalf("lease of an ended run: %v, want ErrLost", err)
	}
	time.Sleep(ttl) // b's lease expired
	if _, err := Acquire(ctx, stackRedis(t), key, ttl, r1, log); !errors.Is(err, ErrFenced) {
		t.Fatalf("acquire by the ended run: %v, want ErrFenced", err)
	}
	c, err := Acquire(ctx, stackRedis(t), key, ttl, r2, log)
	if err != nil || c.Epoch() <= b.Epoch() {
		t.Fatalf("acquire by the new run: %v", err)
	}
	// Redis flushed (run key, identity and lease gone): c loses the lease
	// it cannot renew, and takes it again, as the writer going on.
	if err := admin.Del(ctx, key, RunKey(key), idKey).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl / 2)
	if err := c.Valid(); err != ErrLost {
		t.Fatalf("lease after the flush: %v, want ErrLost", err)
	}
	d, err := Acquire(ctx, stackRedis(t), key, ttl, r2, log)
	if err != nil {
		t.Fatalf("acquire in a flushed store: %v", err)
	}
	_ = d.Release(ctx)
	_ = c.Release(ctx)
	_ = b.Release(ctx)
}

// TestFenceWrites: the task store's keys are written only while the run
// key names the writer's run.
func TestFenceWrites(t *testing.T) {
	admin := stackRedis(t)
	defer admin.Close()
	ctx := context.Background()
	prefix := "fencetest" + time.Now().Format("150405.000000") + ":"
	key := prefix + "lease:t1"
	defer admin.Del(ctx, RunKey(key), prefix+"ckpt:t1", prefix+contract.KeyStoreID)
	c := &Config{opts: admin.Options(), key: key, run: "r1", prefix: prefix}
	f := c.Fence()
	defer f.Close()
	// A store that lost its data (no run key, no identity): the writer
	// already running goes on.
	if err := f.Set(ctx, "ckpt:t1", []byte("a")); err != nil {
		t.Fatalf("write to a flushed store: %v", err)
	}
	admin.Set(ctx, prefix+contract.KeyStoreID, "s1", 0)
	if err := f.Set(ctx, "ckpt:t1", []byte("a2")); !errors.Is(err, ErrFenced) {
		t.Fatalf("write with no run (task deleted): %v, want ErrFenced", err)
	}
	admin.Set(ctx, RunKey(key), "r1", 0)
	if err := f.Set(ctx, "ckpt:t1", []byte("b")); err != nil {
		t.Fatal(err)
	}
	admin.Set(ctx, RunKey(key), "r2", 0)
	if err := f.Set(ctx, "ckpt:t1", []byte("c")); !errors.Is(err, ErrFenced) {
		t.Fatalf("write of an ended run: %v, want ErrFenced", err)
	}
	if v, _ := admin.Get(ctx, prefix+"ckpt:t1").Result(); v != "b" {
		t.Fatalf("stored %q, want the current run's write %q", v, "b")
	}
	if (&Config{}).Fence() != nil {
		t.Fatal("a fence without a run")
	}
}

// TestFrozenHolderStops: a holder that could not renew in time (a frozen
// process wakes up late) is invalid at once, before its lease can expire.
func TestFrozenHolderStops(t *testing.T) {
	l := &Lease{key: "k", ttl: time.Second, validUntil: time.Now().Add(-time.Millisecond)}
	if l.Valid() == nil {
		t.Fatal("a lease past its renewal deadline is valid")
	}
	l.validUntil = time.Now().Add(time.Second)
	if l.Valid() != nil {
		t.Fatal("a freshly renewed lease is invalid")
	}
}

// TestConfigKeys: a task's lease, run and store identity keys are package
// contract's, under the store's prefix; a short TTL or no task is refused,
// and without a run there is no fence.
func TestConfigKeys(t *testing.T) {
	c, err := NewConfig(&goredis.Options{}, "p:", "t1", "r1", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.key != "p:"+contract.LeaseKey("t1") || RunKey(c.key) != "p:"+contract.RunKey("t1") || c.fenceRun().StoreIDKey != "p:"+contract.KeyStoreID {
		t.Errorf("keys %s %s %s", c.key, RunKey(c.key), c.fenceRun().StoreIDKey)
	}
	f := c.Fence()
	if f == nil || f.runKey != "p:"+contract.RunKey("t1") || f.run.ID != "r1" {
		t.Fatalf("fence %+v", f)
	}
	_ = f.Close()
	if _, err := NewConfig(&goredis.Options{}, "", "t1", "", MinTTL-time.Millisecond); err == nil {
		t.Error("a TTL under MinTTL accepted")
	}
	if _, err := NewConfig(&goredis.Options{}, "", "", "", time.Second); err == nil {
		t.Error("a lease of no task accepted")
	}
	if c, _ := NewConfig(&goredis.Options{}, "", "t1", "", time.Second); c.Fence() != nil {
		t.Error("a fence without a run")
	}
}
