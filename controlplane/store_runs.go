package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// leaderScript renews the leader key if ARGV[1] holds it, or takes it if
// nobody does.
var leaderScript = redis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`)

// Lead reports whether control plane self reconciles now (taking or
// renewing the leader key for ttl).
func (s *RedisStore) Lead(ctx context.Context, self string, ttl time.Duration) (bool, error) {
	n, err := leaderScript.Run(ctx, s.rdb, []string{s.key(contract.KeyLeader)}, self, ttl.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("leader key: %w", err)
	}
	return n == 1, nil
}

// Identity returns the store's identity, creating it if the store has none
// (create=true: at server start only; a store that loses it later lost its
// data, which StoreID tells).
func (s *RedisStore) Identity(ctx context.Context) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	if err := s.rdb.SetNX(ctx, s.key(contract.KeyStoreID), hex.EncodeToString(b), 0).Err(); err != nil {
		return "", fmt.Errorf("store identity: %w", err)
	}
	return s.StoreID(ctx)
}

// StoreID returns the store's identity; "" when it has none.
func (s *RedisStore) StoreID(ctx context.Context) (string, error) {
	id, err := s.rdb.Get(ctx, s.key(contract.KeyStoreID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store identity: %w", err)
	}
	return id, nil
}

// LeaseHeld reports whether a writer holds the task's lease.
func (s *RedisStore) LeaseHeld(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.key(contract.LeaseKey(id))).Result()
	if err != nil {
		return false, fmt.Errorf("read the lease of %s: %w", id, err)
	}
	return n > 0, nil
}

// SetState changes a task's state with fn, as Update does, and in the same
// transaction ends the task's current run when the task is left not
// Running (a stream of that run can then neither hold the lease nor write
// the checkpoint, status or failure), and forgets a reported failure when
// fn resumes it (a Running task with a failure would be failed again).
func (s *RedisStore) SetState(ctx context.Context, id string, fn func(*Task) error) error {
	var before string
	return s.update(ctx, id, func(t *Task) error {
		before = t.State
		return fn(t)
	}, func(p redis.Pipeliner, t *Task) {
		if t.State != StateRunning {
			p.Del(ctx, s.key(contract.RunKey(id)))
		} else if before != StateRunning {
			p.Del(ctx, s.key(contract.FailureKey(id)))
		}
	})
}

// StartRun begins a new run of a Running task and returns it: the run key
// names it from now on (a stream of an earlier run is fenced off). It fails
// with errStateChanged when the task is not Running, atomically: a pause or
// delete either comes first (no run starts) or ends this run.
func (s *RedisStore) StartRun(ctx context.Context, id string) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b)
	err := s.update(ctx, id, func(t *Task) error {
		if t.State != StateRunning {
			return errStateChanged
		}
		return nil
	}, func(p redis.Pipeliner, _ *Task) {
		p.Set(ctx, s.key(contract.RunKey(id)), run, 0)
	})
	if err != nil {
		return "", err
	}
	return run, nil
}

// Run returns the task's current run ("" when none).
func (s *RedisStore) Run(ctx context.Context, id string) (string, error) {
	v, err := s.rdb.Get(ctx, s.key(contract.RunKey(id))).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the run of task %s: %w", id, err)
	}
	return v, nil
}

// Failure returns the reason a task's stream reported for a permanent
// failure; empty when there is none.
func (s *RedisStore) Failure(ctx context.Context, id string) (string, error) {
	v, err := s.rdb.Get(ctx, s.key(contract.FailureKey(id))).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read failure of %s: %w", id, err)
	}
	return v, nil
}

// ClearFailure forgets a reported failure (on resume).
func (s *RedisStore) ClearFailure(ctx context.Context, id string) error {
	return s.rdb.Del(ctx, s.key(contract.FailureKey(id))).Err()
}
