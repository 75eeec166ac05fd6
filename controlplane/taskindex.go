package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// The tasks-by-target index lets a create read only the tasks of its own
// target (targetIdentity) instead of every task. Put and Delete change it in
// the transaction that writes or removes the task. A store without the
// marker (restored from before the index, or flushed) is indexed again from
// its tasks on first use; an entry whose task is gone is skipped and
// dropped.
//
//	target_tasks:<sha256 of the identity, 32 hex>   set of task ids
//	target_tasks_indexed                            present once the index is complete
const (
	keyTargetTasks   = "target_tasks:"
	keyTargetIndexed = "target_tasks_indexed"
	// getBatch is how many tasks one MGET reads.
	getBatch = 500
)

// targetIndexKey is the (unprefixed) index key of a target identity; hashed,
// as a uri may be long.
func targetIndexKey(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return keyTargetTasks + hex.EncodeToString(sum[:16])
}

// TaskCount is how many tasks the store holds (one command, whatever the
// number).
func (s *RedisStore) TaskCount(ctx context.Context) (int, error) {
	n, err := s.rdb.SCard(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return 0, fmt.Errorf("count tasks: %w", err)
	}
	return int(n), nil
}

// TargetTasks loads the tasks whose target has the given identity.
func (s *RedisStore) TargetTasks(ctx context.Context, identity string) ([]Task, error) {
	index := s.key(targetIndexKey(identity))
	var indexed *redis.IntCmd
	var members *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		indexed = p.Exists(ctx, s.key(keyTargetIndexed))
		members = p.SMembers(ctx, index)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the tasks of target %s: %w", identity, err)
	}
	ids := members.Val()
	if indexed.Val() == 0 {
		if ids, err = s.reindexTargets(ctx, identity); err != nil {
			return nil, err
		}
	}
	tasks, missing, err := s.getMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		// Left by a re-index racing a delete: harmless, dropped here.
		_ = s.rdb.SRem(ctx, index, missing).Err()
	}
	out := tasks[:0]
	for _, t := range tasks {
		if targetIdentity(t.Target) == identity { // a task stored again under another target
			out = append(out, t)
		}
	}
	return out, nil
}

// reindexTargets rebuilds the index from every task and returns the ids of
// the tasks of identity. Concurrent re-indexes and creates only add the
// same entries.
func (s *RedisStore) reindexTargets(ctx context.Context, identity string) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return nil, fmt.Errorf("index tasks by target: %w", err)
	}
	tasks, _, err := s.getMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("index tasks by target: %w", err)
	}
	var mine []string
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range tasks {
			id := targetIdentity(t.Target)
			p.SAdd(ctx, s.key(targetIndexKey(id)), t.ID)
			if id == identity {
				mine = append(mine, t.ID)
			}
		}
		p.Set(ctx, s.key(keyTargetIndexed), "1", 0)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index tasks by target: %w", err)
	}
	return mine, nil
}

// getMany loads tasks by id, getBatch per command; missing lists the ids
// that have no task (deleted meanwhile).
func (s *RedisStore) getMany(ctx context.Context, ids []string) (tasks []Task, missing []string, err error) {
	tasks = make([]Task, 0, len(ids))
	for start := 0; start < len(ids); start += getBatch {
		batch := ids[start:min(start+getBatch, len(ids))]
		keys := make([]string, len(batch))
		for i, id := range batch {
			keys[i] = s.key(contract.TaskKey(id))
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("load tasks: %w", err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				missing = append(missing, batch[i])
				continue
			}
			var t Task
			if err := json.Unmarshal([]byte(raw), &t); err != nil {
				return nil, nil, fmt.Errorf("task %s in the store is not valid JSON: %w", batch[i], err)
			}
			tasks = append(tasks, t)
		}
	}
	return tasks, missing, nil
}

// deleteTask removes a task's keys, its entry in the task set and in the
// target index, in one transaction with reading its target (a task that is
// already gone leaves only its set entry to remove).
func (s *RedisStore) deleteTask(ctx context.Context, id string) error {
	key := s.key(contract.TaskKey(id))
	var keys []string
	for _, k := range contract.TaskKeys(id) {
		keys = append(keys, s.key(k))
	}
	for attempt := 0; attempt < 30; attempt++ {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			t, err := s.get(ctx, tx, id)
			if err != nil && !errors.Is(err, errNoTask) {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, keys...)
				p.SRem(ctx, s.key(contract.KeyTasks), id)
				if t.ID != "" {
					p.SRem(ctx, s.key(targetIndexKey(targetIdentity(t.Target))), id)
				}
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("task %s changed concurrently too often", id)
}
