package lease

import (
	"context"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"
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
// release it gets the lease with a higher epoch; a revoked lease is lost for
// good and blocks new writers until it expires.
func TestOneHolderAtATime(t *testing.T) {
	admin := stackRedis(t)
	defer admin.Close()
	key := "leasetest:" + time.Now().Format("150405.000000")
	defer admin.Del(context.Background(), key, key+":epoch")
	log := service.MockResources().Logger()
	ctx := context.Background()
	ttl := 600 * time.Millisecond
	a, err := Acquire(ctx, stackRedis(t), key, ttl, log)
	if err != nil || a.Valid() != nil {
		t.Fatalf("first acquire: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, ttl)
	if _, err := Acquire(short, stackRedis(t), key, ttl, log); err == nil {
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
	b, err := Acquire(ctx, stackRedis(t), key, ttl, log)
	if err != nil || b.Epoch() <= a.Epoch() {
		t.Fatalf("after release: %v, epoch %d after %d", err, b.Epoch(), a.Epoch())
	}
	if err := Revoke(ctx, admin, key, ttl); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl / 2) // b's next renewal fails
	if err := b.Valid(); err != ErrLost {
		t.Fatalf("revoked lease: %v, want ErrLost", err)
	}
	start := time.Now()
	c, err := Acquire(ctx, stackRedis(t), key, ttl, log)
	if err != nil || time.Since(start) < ttl/4 {
		t.Fatalf("acquire after revoke: %v after %s (must wait for the revocation to expire)", err, time.Since(start))
	}
	_ = c.Release(ctx)
	_ = b.Release(ctx)
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
