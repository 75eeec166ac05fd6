package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// RedisStore is the Store in Redis, in the key layout of package contract
// (contract.KeyTasks, contract.TaskKey, ...), every key prefixed with prefix.
type RedisStore struct {
	rdb     *redis.Client
	prefix  string
	keyring contract.Keyring // seals the credentials it stores
}

// NewStore opens the task store at a redis:// URL.
// Credentials are sealed with keyring (empty: stored plain).
func NewStore(url, prefix string, keyring contract.Keyring) (*RedisStore, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	return &RedisStore{rdb: redis.NewClient(opts), prefix: prefix, keyring: keyring}, nil
}

func (s *RedisStore) Close() error { return s.rdb.Close() }

// key prefixes a key of the contract layout.
func (s *RedisStore) key(k string) string { return s.prefix + k }

// Ping checks that Redis answers.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("task store (redis): %w", err)
	}
	return nil
}

// Put saves a new task (secrets are never part of it). What an earlier task
// of the same id reported (a failure, its status) is forgotten with it: a
// task created again starts clean.
func (s *RedisStore) Put(ctx context.Context, t Task) error {
	t = t.stored()
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.key(contract.FailureKey(t.ID)), s.key(contract.InputStatusKey(t.ID)), s.key(contract.OutputStatusKey(t.ID)))
		p.Set(ctx, s.key(contract.TaskKey(t.ID)), b, 0)
		p.SAdd(ctx, s.key(contract.KeyTasks), t.ID)
		p.SAdd(ctx, s.key(targetIndexKey(targetIdentity(t.Target))), t.ID) // taskindex.go
		return nil
	})
	if err != nil {
		return fmt.Errorf("save task %s: %w", t.ID, err)
	}
	return nil
}

// Update changes a task atomically: fn sees the stored task and edits it; an
// error from fn leaves the store unchanged and is returned. A concurrent
// change (another request, a reconcile pass) makes it read again, so neither
// overwrites the other; a deleted task gives errNoTask and is not recreated.
func (s *RedisStore) Update(ctx context.Context, id string, fn func(*Task) error) error {
	return s.update(ctx, id, fn, nil)
}

// update is Update with more writes (also) in the same transaction: extra
// sees the task as fn left it.
func (s *RedisStore) update(ctx context.Context, id string, fn func(*Task) error, extra func(redis.Pipeliner, *Task)) error {
	key := s.key(contract.TaskKey(id))
	for attempt := 0; attempt < 30; attempt++ {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			t, err := s.get(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := fn(&t); err != nil {
				return err
			}
			t = t.stored()
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, b, 0)
				if extra != nil {
					extra(p, &t)
				}
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		// Conflicting writers retry at random times, so they do not meet
		// again and again.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(mrand.Int64N(int64(time.Millisecond) * int64(attempt+1)))):
		}
	}
	return fmt.Errorf("update task %s: changed concurrently too often", id)
}

// Get loads a task; errNoTask when it does not exist.
func (s *RedisStore) Get(ctx context.Context, id string) (Task, error) {
	return s.get(ctx, s.rdb, id)
}

func (s *RedisStore) get(ctx context.Context, c redis.Cmdable, id string) (Task, error) {
	b, err := c.Get(ctx, s.key(contract.TaskKey(id))).Bytes()
	if errors.Is(err, redis.Nil) {
		return Task{}, errNoTask
	}
	if err != nil {
		return Task{}, fmt.Errorf("load task %s: %w", id, err)
	}
	var t Task
	if err := json.Unmarshal(b, &t); err != nil {
		return Task{}, fmt.Errorf("task %s in the store is not valid JSON: %w", id, err)
	}
	return t, nil
}

// List loads every task (a few hundred per command).
func (s *RedisStore) List(ctx context.Context) ([]Task, error) {
	ids, err := s.rdb.SMembers(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	tasks, _, err := s.getMany(ctx, ids) // a missing one was deleted meanwhile
	return tasks, err
}

// Delete removes a task with its secret and checkpoint, and its entry in
// the target index (taskindex.go).
func (s *RedisStore) Delete(ctx context.Context, id string) error {
	if err := s.deleteTask(ctx, id); err != nil {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}
