package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Store keeps tasks in Redis in the key layout of package contract
// (contract.KeyTasks, contract.TaskKey, ...), every key prefixed with prefix.
type Store struct {
	rdb     *redis.Client
	prefix  string
	keyring contract.Keyring // seals the credentials it stores
}

// NewStore opens the task store at a redis:// URL.
// Credentials are sealed with keyring (empty: stored plain).
func NewStore(url, prefix string, keyring contract.Keyring) (*Store, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	return &Store{rdb: redis.NewClient(opts), prefix: prefix, keyring: keyring}, nil
}

func (s *Store) Close() error { return s.rdb.Close() }

// key prefixes a key of the contract layout.
func (s *Store) key(k string) string { return s.prefix + k }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("task store (redis): %w", err)
	}
	return nil
}

// errNoTask is returned for an unknown task id.
var errNoTask = errors.New("no such task")

// Put saves a new task (secrets are never part of it). What an earlier task
// of the same id reported (a failure, its status) is forgotten with it: a
// task created again starts clean.
func (s *Store) Put(ctx context.Context, t Task) error {
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
func (s *Store) Update(ctx context.Context, id string, fn func(*Task) error) error {
	return s.update(ctx, id, fn, nil)
}

// update is Update with more writes (also) in the same transaction: extra
// sees the task as fn left it.
func (s *Store) update(ctx context.Context, id string, fn func(*Task) error, extra func(redis.Pipeliner, *Task)) error {
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
func (s *Store) Get(ctx context.Context, id string) (Task, error) {
	return s.get(ctx, s.rdb, id)
}

func (s *Store) get(ctx context.Context, c redis.Cmdable, id string) (Task, error) {
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
func (s *Store) List(ctx context.Context) ([]Task, error) {
	ids, err := s.rdb.SMembers(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	tasks, _, err := s.getMany(ctx, ids) // a missing one was deleted meanwhile
	return tasks, err
}

// Delete removes a task with its secret and checkpoint, and its entry in
// the target index (taskindex.go).
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.deleteTask(ctx, id); err != nil {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}

// PutSecret stores credentials under key (contract.SecretKey or
// contract.KeySourceCredentials) for a stream to read, as
// contract.StoredCredentials; empty credentials remove the key.
func (s *Store) PutSecret(ctx context.Context, key string, token, user, pass string) error {
	if token == "" && user == "" {
		return s.rdb.Del(ctx, s.key(key)).Err()
	}
	b, err := json.Marshal(contract.StoredCredentials{Token: token, Username: user, Password: pass})
	if err != nil {
		return err
	}
	if b, err = s.keyring.Seal(b, key); err != nil {
		return fmt.Errorf("seal credentials: %w", err)
	}
	if err := s.rdb.Set(ctx, s.key(key), b, 0).Err(); err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	return nil
}

// ResealSecrets seals every task's stored credentials with the keyring's
// first key (plain ones too): after a key rotation, or once keys are set.
// Credentials no key opens are left as they are and reported.
func (s *Store) ResealSecrets(ctx context.Context) (resealed int, err error) {
	if s.keyring.Empty() {
		return 0, nil
	}
	ids, err := s.rdb.SMembers(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return 0, fmt.Errorf("list tasks: %w", err)
	}
	var errs []error
	for _, id := range ids {
		bind := contract.SecretKey(id)
		key := s.key(bind)
		raw, err := s.rdb.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return resealed, fmt.Errorf("read credentials of %s: %w", id, err)
		}
		plain, err := s.keyring.OpenForReseal(raw, bind)
		if err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", id, err))
			continue
		}
		b, err := s.keyring.Seal(plain, bind)
		if err != nil {
			return resealed, err
		}
		if err := s.rdb.Set(ctx, key, b, 0).Err(); err != nil {
			return resealed, fmt.Errorf("store credentials of %s: %w", id, err)
		}
		resealed++
	}
	return resealed, errors.Join(errs...)
}

// Checkpoint returns the stream's stored read positions (nil when none).
func (s *Store) Checkpoint(ctx context.Context, id string) (map[string]string, error) {
	ck, err := s.checkpoint(ctx, id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Channels, nil
}

// checkpoint reads and parses a task's stored checkpoint (nil when none).
func (s *Store) checkpoint(ctx context.Context, id string) (*contract.Checkpoint, error) {
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
func (s *Store) Status(ctx context.Context, id string) (*contract.InputStatus, *contract.OutputStatus, error) {
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
func (s *Store) SnapshotProgress(ctx context.Context, id string) (*contract.SnapshotState, error) {
	ck, err := s.checkpoint(ctx, id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Snapshot, nil
}

// PutCheckpoint stores a task's first checkpoint (contract.Checkpoint JSON).
func (s *Store) PutCheckpoint(ctx context.Context, id string, ckpt []byte) error {
	if err := s.rdb.Set(ctx, s.key(contract.CheckpointKey(id)), ckpt, 0).Err(); err != nil {
		return fmt.Errorf("store the start checkpoint of %s: %w", id, err)
	}
	return nil
}

// leaderScript renews the leader key if ARGV[1] holds it, or takes it if
// nobody does.
var leaderScript = redis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`)

// Lead reports whether control plane self reconciles now (taking or
// renewing the leader key for ttl).
func (s *Store) Lead(ctx context.Context, self string, ttl time.Duration) (bool, error) {
	n, err := leaderScript.Run(ctx, s.rdb, []string{s.key(contract.KeyLeader)}, self, ttl.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("leader key: %w", err)
	}
	return n == 1, nil
}

// Identity returns the store's identity, creating it if the store has none
// (create=true: at server start only; a store that loses it later lost its
// data, which StoreID tells).
func (s *Store) Identity(ctx context.Context) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	if err := s.rdb.SetNX(ctx, s.key(contract.KeyStoreID), hex.EncodeToString(b), 0).Err(); err != nil {
		return "", fmt.Errorf("store identity: %w", err)
	}
	return s.StoreID(ctx)
}

// StoreID returns the store's identity; "" when it has none.
func (s *Store) StoreID(ctx context.Context) (string, error) {
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
func (s *Store) LeaseHeld(ctx context.Context, id string) (bool, error) {
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
func (s *Store) SetState(ctx context.Context, id string, fn func(*Task) error) error {
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
func (s *Store) StartRun(ctx context.Context, id string) (string, error) {
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
func (s *Store) Run(ctx context.Context, id string) (string, error) {
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
func (s *Store) Failure(ctx context.Context, id string) (string, error) {
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
func (s *Store) ClearFailure(ctx context.Context, id string) error {
	return s.rdb.Del(ctx, s.key(contract.FailureKey(id))).Err()
}
