package controlplane

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// fakeWorkers are in-memory workers running streams. A worker marked down
// answers nothing. A stream started for its task's current run takes the
// task's lease in store (as milvus_apply does) and a removed one releases it;
// a stream of an ended run is fenced and takes none.
type fakeWorkers struct {
	mu      sync.Mutex
	streams map[string]map[string]string // worker -> stream id -> its input label
	down    map[string]bool
	store   *fakeStore // nil: no leases
	// beforeCreate, when set, runs before a stream is added (outside the
	// lock): a test's way to interleave a request with a reconcile pass.
	beforeCreate func(worker, id string)
	created      int
}

func newFakeWorkers(store *fakeStore, names ...string) *fakeWorkers {
	w := &fakeWorkers{streams: map[string]map[string]string{}, down: map[string]bool{}, store: store}
	for _, n := range names {
		w.streams[n] = map[string]string{}
	}
	return w
}

func (w *fakeWorkers) Names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.streams))
}

// reach returns the streams of a worker that answers; w.mu is held.
func (w *fakeWorkers) reach(worker string) (map[string]string, error) {
	s, ok := w.streams[worker]
	if !ok || w.down[worker] {
		return nil, fmt.Errorf("worker %s: connection refused", worker)
	}
	return s, nil
}

func (w *fakeWorkers) List(_ context.Context, worker string) (map[string]StreamStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.reach(worker)
	if err != nil {
		return nil, err
	}
	out := map[string]StreamStatus{}
	for id := range s {
		out[id] = StreamStatus{Active: true}
	}
	return out, nil
}

func (w *fakeWorkers) Label(_ context.Context, worker, id string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.reach(worker)
	if err != nil {
		return "", err
	}
	label, ok := s[id]
	if !ok {
		return "", fmt.Errorf("worker %s: stream %s: status 404", worker, id)
	}
	return label, nil
}

func (w *fakeWorkers) Create(_ context.Context, worker, id string, config []byte) error {
	var conf struct {
		Input struct {
			Label string `yaml:"label"`
		} `yaml:"input"`
	}
	if err := yaml.Unmarshal(config, &conf); err != nil {
		return fmt.Errorf("worker %s: stream %s: %w", worker, id, err)
	}
	if w.beforeCreate != nil {
		w.beforeCreate(worker, id)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.reach(worker)
	if err != nil {
		return err
	}
	s[id] = conf.Input.Label
	w.created++
	w.takeLease(id, conf.Input.Label)
	return nil
}

// takeLease: a stream of its task's current run holds the lease.
func (w *fakeWorkers) takeLease(id, label string) {
	if w.store == nil {
		return
	}
	_, run := contract.ParseRunLabel(label)
	w.store.with(id, func(k *fakeKeys) {
		if run != "" && k.run == run {
			k.lease = time.Now().Add(leaseTTL)
		}
	})
}

func (w *fakeWorkers) Delete(_ context.Context, worker, id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.reach(worker)
	if err != nil {
		return err
	}
	if _, ok := s[id]; ok && w.store != nil {
		w.store.with(id, func(k *fakeKeys) { k.lease = time.Time{} }) // released at its stop
	}
	delete(s, id)
	return nil
}

// put runs a stream labelled label on worker (one the reconciler did not
// start: left from before a restart, or another store's).
func (w *fakeWorkers) put(worker, id, label string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.streams[worker][id] = label
}

// setDown marks a worker unreachable (or back).
func (w *fakeWorkers) setDown(worker string, down bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down[worker] = down
}

// where lists the workers running a stream of task id, sorted, and the
// labels of those streams.
func (w *fakeWorkers) where(id string) (workers, labels []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range slices.Sorted(maps.Keys(w.streams)) {
		if label, ok := w.streams[n][id]; ok {
			workers, labels = append(workers, n), append(labels, label)
		}
	}
	return workers, labels
}

var _ Workers = (*fakeWorkers)(nil)
