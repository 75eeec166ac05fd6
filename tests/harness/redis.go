package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisBackup is a copy of some Redis keys (values and TTLs), as an RDB
// snapshot holds them.
type RedisBackup struct {
	addr string
	keys map[string]redisEntry
}

type redisEntry struct {
	dump string
	ttl  time.Duration // 0: none
}

// BackupPrefix copies every key under prefix.
func BackupPrefix(t testing.TB, addr, prefix string) *RedisBackup {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := &RedisBackup{addr: addr, keys: map[string]redisEntry{}}
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		d, err := rdb.Dump(ctx, k).Result()
		if err == redis.Nil {
			continue // expired meanwhile
		}
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("pttl %s: %v", k, err)
		}
		b.keys[k] = redisEntry{dump: d, ttl: max(ttl, 0)}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s*: %v", prefix, err)
	}
	return b
}

// Len is how many keys the backup holds.
func (b *RedisBackup) Len() int { return len(b.keys) }

// Restore writes every key back (replacing what is there).
func (b *RedisBackup) Restore(t testing.TB) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: b.addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for k, e := range b.keys {
		if err := rdb.RestoreReplace(ctx, k, e.ttl, e.dump).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
}

// FlushAll empties the Redis at addr (every database).
func FlushAll(t testing.TB, addr string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
}

// StreamUptime is the uptime in seconds of stream id on the worker at url;
// an error when the worker does not answer or does not run it.
func StreamUptime(url, id string) (float64, error) {
	r, err := http.Get(url + "/streams")
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	var m map[string]struct {
		Uptime float64 `json:"uptime"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		return 0, fmt.Errorf("streams of %s: %w", url, err)
	}
	s, ok := m[id]
	if !ok {
		return 0, fmt.Errorf("stream %s is gone from %s", id, url)
	}
	return s.Uptime, nil
}
