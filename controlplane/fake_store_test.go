package controlplane

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// fakeStore is an in-memory Store with RedisStore's semantics: changes are
// atomic (one mutex), SetState ends a run when a task leaves Running and
// forgets a failure when it comes back, StartRun needs the task Running, Put
// forgets what an earlier task of its id reported.
type fakeStore struct {
	mu      sync.Mutex
	id      string // the store's identity
	leader  string
	tasks   map[string]Task
	keys    map[string]*fakeKeys // by task id; they may outlive the task, as Redis keys do
	runSeq  int
	secrets map[string]contract.StoredCredentials // by key
	// beforeStartRun, when set, runs before a run starts (outside the
	// lock): a test's way to interleave a request with a reconcile pass.
	beforeStartRun func(id string)
}

// fakeKeys are a task's keys beside the task itself.
type fakeKeys struct {
	run     string
	lease   time.Time // held until then
	failure string
	in      *contract.InputStatus
	out     *contract.OutputStatus
	ckpt    []byte
}

func newFakeStore(id string) *fakeStore {
	return &fakeStore{id: id, tasks: map[string]Task{}, keys: map[string]*fakeKeys{}, secrets: map[string]contract.StoredCredentials{}}
}

// k returns the keys of task id; s.mu is held.
func (s *fakeStore) k(id string) *fakeKeys {
	if s.keys[id] == nil {
		s.keys[id] = &fakeKeys{}
	}
	return s.keys[id]
}

// with runs fn on the keys of task id under the lock (what a stream or a
// test writes into the store).
func (s *fakeStore) with(id string, fn func(*fakeKeys)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.k(id))
}

// task returns the stored task id (false: none).
func (s *fakeStore) task(id string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	return t, ok
}

func (s *fakeStore) Put(_ context.Context, t Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.k(t.ID)
	k.failure, k.in, k.out = "", nil, nil
	s.tasks[t.ID] = t.stored()
	return nil
}

func (s *fakeStore) Get(_ context.Context, id string) (Task, error) {
	if t, ok := s.task(id); ok {
		return t, nil
	}
	return Task{}, errNoTask
}

func (s *fakeStore) List(context.Context) ([]Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.tasks))
	for id := range s.tasks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Task, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.tasks[id])
	}
	return out, nil
}

func (s *fakeStore) Update(_ context.Context, id string, fn func(*Task) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.update(id, fn)
	return err
}

// update changes task id with fn and returns its state before; s.mu is held.
func (s *fakeStore) update(id string, fn func(*Task) error) (before string, err error) {
	t, ok := s.tasks[id]
	if !ok {
		return "", errNoTask
	}
	before = t.State
	if err := fn(&t); err != nil {
		return before, err
	}
	s.tasks[id] = t.stored()
	return before, nil
}

func (s *fakeStore) SetState(_ context.Context, id string, fn func(*Task) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, err := s.update(id, fn)
	if err != nil {
		return err
	}
	if s.tasks[id].State != StateRunning {
		s.k(id).run = ""
	} else if before != StateRunning {
		s.k(id).failure = ""
	}
	return nil
}

func (s *fakeStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tasks, id)
	delete(s.keys, id)
	delete(s.secrets, contract.SecretKey(id))
	return nil
}

func (s *fakeStore) TaskCount(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks), nil
}

func (s *fakeStore) TargetTasks(ctx context.Context, identity string) ([]Task, error) {
	all, _ := s.List(ctx)
	var out []Task
	for _, t := range all {
		if targetIdentity(t.Target) == identity {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *fakeStore) StoreID(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, nil
}

func (s *fakeStore) Lead(_ context.Context, self string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leader == "" {
		s.leader = self
	}
	return s.leader == self, nil
}

func (s *fakeStore) StartRun(_ context.Context, id string) (string, error) {
	if s.beforeStartRun != nil {
		s.beforeStartRun(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return "", errNoTask
	}
	if t.State != StateRunning {
		return "", errStateChanged
	}
	s.runSeq++
	run := fmt.Sprintf("run%d", s.runSeq)
	s.k(id).run = run
	return run, nil
}

func (s *fakeStore) Run(_ context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k(id).run, nil
}

func (s *fakeStore) LeaseHeld(_ context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.k(id).lease), nil
}

func (s *fakeStore) Failure(_ context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k(id).failure, nil
}

func (s *fakeStore) Status(_ context.Context, id string) (*contract.InputStatus, *contract.OutputStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k(id).in, s.k(id).out, nil
}

func (s *fakeStore) checkpoint(id string) (*contract.Checkpoint, error) {
	s.mu.Lock()
	b := s.k(id).ckpt
	s.mu.Unlock()
	if b == nil {
		return nil, nil
	}
	ck, err := contract.ParseCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint of %s: %w", id, err)
	}
	return &ck, nil
}

func (s *fakeStore) Checkpoint(_ context.Context, id string) (map[string]string, error) {
	ck, err := s.checkpoint(id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Channels, nil
}

func (s *fakeStore) SnapshotProgress(_ context.Context, id string) (*contract.SnapshotState, error) {
	ck, err := s.checkpoint(id)
	if err != nil || ck == nil {
		return nil, err
	}
	return ck.Snapshot, nil
}

func (s *fakeStore) PutSecret(_ context.Context, key string, token, user, pass string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == "" && user == "" {
		delete(s.secrets, key)
		return nil
	}
	s.secrets[key] = contract.StoredCredentials{Token: token, Username: user, Password: pass}
	return nil
}

func (s *fakeStore) SameCredentials(_ context.Context, key, token, user, pass string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[key] == contract.StoredCredentials{Token: token, Username: user, Password: pass}, nil
}

func (s *fakeStore) PutCheckpoint(_ context.Context, id string, ckpt []byte) error {
	s.with(id, func(k *fakeKeys) { k.ckpt = ckpt })
	return nil
}

var _ Store = (*fakeStore)(nil)
