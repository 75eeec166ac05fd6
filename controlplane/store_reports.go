package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Checkpoint returns the stream's stored read positions (nil when none).
func (s *RedisStore) Checkpoint(ctx context.Context, id string) (map[string]string, error) {
	ck, err := s.checkpoint(ctx, id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Channels, nil
}

// checkpoint reads and parses a task's stored checkpoint (nil when none).
func (s *RedisStore) checkpoint(ctx context.Context, id string) (*contract.Checkpoint, error) {
	b, err := s.rdb.Get(ctx, s.key(contract.CheckpointKey(id))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint of %s: %w", id, err)
	}
	ck, err := contract.ParseCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint of %s: %w", id, err)
	}
	return &ck, nil
}

// Status returns what a task's stream reported (nil when nothing yet).
func (s *RedisStore) Status(ctx context.Context, id string) (*contract.InputStatus, *contract.OutputStatus, error) {
	vals, err := s.rdb.MGet(ctx, s.key(contract.InputStatusKey(id)), s.key(contract.OutputStatusKey(id))).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read the status of %s: %w", id, err)
	}
	var in *contract.InputStatus
	var out *contract.OutputStatus
	if v, ok := vals[0].(string); ok {
		in = &contract.InputStatus{}
		if err := json.Unmarshal([]byte(v), in); err != nil {
			in = nil // a status is informative: a bad one is no status
		}
	}
	if v, ok := vals[1].(string); ok {
		out = &contract.OutputStatus{}
		if err := json.Unmarshal([]byte(v), out); err != nil {
			out = nil
		}
	}
	return in, out, nil
}

// SnapshotProgress returns the snapshot progress in a task's checkpoint
// (nil: none).
func (s *RedisStore) SnapshotProgress(ctx context.Context, id string) (*contract.SnapshotState, error) {
	ck, err := s.checkpoint(ctx, id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Snapshot, nil
}

// PutCheckpoint stores a task's first checkpoint (contract.Checkpoint JSON).
func (s *RedisStore) PutCheckpoint(ctx context.Context, id string, ckpt []byte) error {
	if err := s.rdb.Set(ctx, s.key(contract.CheckpointKey(id)), ckpt, 0).Err(); err != nil {
		return fmt.Errorf("store the start checkpoint of %s: %w", id, err)
	}
	return nil
}
