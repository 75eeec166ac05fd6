package workload

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// Steady writes a steady mix of inserts, upserts and deletes into a
// VectorSchema collection: every tick, Inserts new keys, Upserts existing
// keys with new vectors and Deletes existing keys. Keys are never reused, so
// an insert that failed (or failed to report success) cannot shadow a later
// one; the source's own state is what a copy is compared with.
type Steady struct {
	Client  client.Client
	Coll    string
	Dim     int
	Tick    time.Duration // default 100 ms
	Inserts int           // rows per tick, default 140
	Upserts int           // default 40 (0); < 0: none
	Deletes int           // default 20 (0); < 0: none
	// OpTimeout bounds one call (default 10 s): while a part of the source
	// is away calls fail or time out, and the load goes on.
	OpTimeout time.Duration
	Seed      int64
	// FirstKey is the first key inserted (default 1, or ExistingKeys+1).
	FirstKey int64
	// ExistingKeys: keys 1..ExistingKeys exist before Run (inserted by the
	// caller); upserts and deletes pick among them too.
	ExistingKeys int64

	mu    sync.Mutex
	stats SteadyStats
	live  []int64 // keys whose insert succeeded and that were not deleted
	next  int64
}

// SteadyStats counts what Steady did; failed calls are counted apart (their
// rows may or may not exist on the source).
type SteadyStats struct {
	Inserted, Upserted, Deleted int64 // rows in calls that succeeded
	FailedCalls                 int64
	LastError                   string
	LastInsertedKey             int64 // highest key of a successful insert
	// LastInsertStarted is when the call that inserted LastInsertedKey began.
	LastInsertStarted time.Time
}

// Stats is a snapshot of the counters.
func (s *Steady) Stats() SteadyStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Steady) defaults() {
	if s.Tick <= 0 {
		s.Tick = 100 * time.Millisecond
	}
	if s.Inserts <= 0 {
		s.Inserts = 140
	}
	if s.Upserts < 0 {
		s.Upserts = 0
	} else if s.Upserts == 0 {
		s.Upserts = 40
	}
	if s.Deletes < 0 {
		s.Deletes = 0
	} else if s.Deletes == 0 {
		s.Deletes = 20
	}
	if s.OpTimeout <= 0 {
		s.OpTimeout = 10 * time.Second
	}
	if s.FirstKey == 0 {
		s.FirstKey = s.ExistingKeys + 1
	}
	if s.next == 0 {
		s.next = s.FirstKey
		for k := int64(1); k <= s.ExistingKeys; k++ {
			s.live = append(s.live, k)
		}
	}
}

// Run writes until ctx ends or d has passed (d <= 0: until ctx ends).
func (s *Steady) Run(ctx context.Context, d time.Duration) {
	s.defaults()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	rng := rand.New(rand.NewSource(s.Seed))
	tick := time.NewTicker(s.Tick)
	defer tick.Stop()
	for {
		s.round(ctx, rng)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// round is one tick: the insert, the upsert, the delete.
func (s *Steady) round(ctx context.Context, rng *rand.Rand) {
	first := s.next
	s.next += int64(s.Inserts)
	began := time.Now()
	if err := s.call(ctx, func(c context.Context) error {
		_, err := s.Client.Insert(c, s.Coll, "", Rows(first, s.Inserts, s.Dim, rng)...)
		return err
	}); err == nil {
		s.mu.Lock()
		for k := first; k < s.next; k++ {
			s.live = append(s.live, k)
		}
		s.stats.Inserted += int64(s.Inserts)
		s.stats.LastInsertedKey, s.stats.LastInsertStarted = s.next-1, began
		s.mu.Unlock()
	}
	if ups := s.pick(rng, s.Upserts, false); len(ups) > 0 {
		if err := s.call(ctx, func(c context.Context) error {
			_, err := s.Client.Upsert(c, s.Coll, "", rowsFor(ups, s.Dim, rng)...)
			return err
		}); err == nil {
			s.add(&s.stats.Upserted, len(ups))
		}
	}
	if dels := s.pick(rng, s.Deletes, true); len(dels) > 0 {
		if err := s.call(ctx, func(c context.Context) error {
			return s.Client.DeleteByPks(c, s.Coll, "", entity.NewColumnInt64("id", dels))
		}); err == nil {
			s.add(&s.stats.Deleted, len(dels))
		}
	}
}

func (s *Steady) call(ctx context.Context, fn func(context.Context) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	c, cancel := context.WithTimeout(ctx, s.OpTimeout)
	defer cancel()
	err := fn(c)
	if err != nil && ctx.Err() == nil {
		s.mu.Lock()
		s.stats.FailedCalls++
		s.stats.LastError = err.Error()
		s.mu.Unlock()
	}
	return err
}

func (s *Steady) add(n *int64, k int) {
	s.mu.Lock()
	*n += int64(k)
	s.mu.Unlock()
}

// pick chooses up to n distinct live keys; remove takes them out of the live
// set (they are about to be deleted: even a failed delete may have happened).
func (s *Steady) pick(rng *rand.Rand, n int, remove bool) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > len(s.live) {
		n = len(s.live)
	}
	out := make([]int64, 0, n)
	for len(out) < n {
		i := rng.Intn(len(s.live))
		out = append(out, s.live[i])
		// swap-remove from the live set, put back below unless removing
		s.live[i] = s.live[len(s.live)-1]
		s.live = s.live[:len(s.live)-1]
	}
	if !remove {
		s.live = append(s.live, out...)
	}
	return out
}

// rowsFor builds VectorSchema rows for the given keys, with fresh vectors
// and a title that marks an upsert.
func rowsFor(keys []int64, dim int, rng *rand.Rand) []entity.Column {
	titles := make([]string, len(keys))
	vecs := make([][]float32, len(keys))
	for i, k := range keys {
		titles[i] = fmt.Sprintf("upserted-%d-%d", k, rng.Intn(1000))
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()
		}
		vecs[i] = v
	}
	return []entity.Column{
		entity.NewColumnInt64("id", append([]int64(nil), keys...)),
		entity.NewColumnVarChar("title", titles),
		entity.NewColumnFloatVector("vec", dim, vecs),
	}
}
