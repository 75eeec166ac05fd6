package binlog

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// A collection whose rows the copy cannot read yet (no index: Milvus 2.3
// cannot load, so cannot query, it) waits; everything else is copied and
// streamed. Its copy must not land over newer stream writes (stale rows),
// so while it waits the stream drops its rows (its catalog still passes,
// so its copy on the target follows the source's). Once readable the
// stream's emission holds at the position P it reached (every row before
// it dropped), the source gives a timestamp G2 (> P), the collection is
// copied at G2, and the stream goes on from P: its rows in (P, G2] are
// applied again over the copy, then the newer ones, in order: the copy
// ends equal to the source. A restart goes on from the checkpoint (<= P):
// the stored state says whether it still waits (rows dropped) or is being
// copied (the copy resumes at its stored G2 before the stream is read).

// waitCheckEvery is how often the source is asked whether a waiting
// collection became readable.
const waitCheckEvery = 5 * time.Second

// holdLimit bounds the wait for the stream's batches to be acknowledged
// before a waiting collection is copied (a clean cut; the rows are right
// without it too: dropped rows never count as acknowledged ahead).
const holdLimit = 30 * time.Second

// errHold: the stream's emission stops here for a waiting collection's copy.
var errHold = errors.New("the stream holds for a collection's copy")

// waitSource is what the watch asks the source.
type waitSource interface {
	snapshot.CatalogSource
	Locate(ctx context.Context, id int64) (db, name string, found bool, err error)
}

// verdict is what the watch found about a waiting collection.
type verdict struct {
	db, name string
	gone     bool // dropped on the source
}

// waitState follows the collections whose copy waits. The watch writes
// verdicts; ReadBatch's goroutine reads the rest.
type waitState struct {
	mu       sync.Mutex
	dropping map[int64]bool // collections whose rows the stream drops
	verdicts map[int64]verdict
	resume   bool          // a stored copy of a collection that waited is to be finished
	wake     chan struct{} // a verdict came

	src   waitSource
	clock sourceClock
	every time.Duration
	log   *service.Logger
}

func newWaitState(src waitSource, clock sourceClock, log *service.Logger) *waitState {
	return &waitState{src: src, clock: clock, every: waitCheckEvery, log: log, wake: make(chan struct{}, 1)}
}

// refresh takes the waiting and deferred collections from the stored state.
func (w *waitState) refresh(st *contract.SnapshotState) {
	if w == nil {
		return
	}
	drop := map[int64]bool{}
	if st != nil {
		for _, c := range st.Collections {
			if c.Waiting != "" && !c.Done {
				drop[c.ID] = true
			}
		}
	}
	w.mu.Lock()
	w.dropping, w.resume = drop, len(st.Deferred()) > 0
	w.mu.Unlock()
}

// drops reports whether the stream drops ev: a row of a collection that waits.
func (w *waitState) drops(ev *wal.Event) bool {
	if w == nil || !ev.IsRow() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropping[ev.CollectionID]
}

// due reports whether a copy of a collection that waited is to start.
func (w *waitState) due() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resume || len(w.verdicts) > 0
}

func (w *waitState) woken() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.wake
}

// take returns the verdicts found since the last take.
func (w *waitState) take() map[int64]verdict {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := w.verdicts
	w.verdicts, w.resume = nil, false
	return v
}

func (w *waitState) found(id int64, v verdict) {
	w.mu.Lock()
	if w.verdicts == nil {
		w.verdicts = map[int64]verdict{}
	}
	w.verdicts[id] = v
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// watch asks the source, every w.every until ctx ends, whether each
// waiting collection became readable (or was dropped). state is the stored
// snapshot progress.
func (w *waitState) watch(ctx context.Context, state func() *contract.SnapshotState) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := state()
		if st == nil || st.Copying() {
			continue // the first copy retries its waiting collections itself
		}
		for _, c := range st.Collections {
			if c.Waiting == "" || c.Done {
				continue
			}
			if v, ok := w.check(ctx, c); ok {
				w.found(c.ID, v)
			}
		}
	}
}

// check asks the source about waiting collection c: ok when it was
// dropped or its rows can be read now.
func (w *waitState) check(ctx context.Context, c contract.SnapshotCollection) (verdict, bool) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, name, found, err := w.src.Locate(cctx, c.ID)
	if err != nil {
		w.log.Debugf("Snapshot: cannot find waiting collection %s.%s on the source (asked again): %v", c.DB, c.Name, err)
		return verdict{}, false
	}
	if !found {
		return verdict{gone: true}, true
	}
	why, err := snapshot.Unreadable(cctx, w.src, db, name)
	if err != nil {
		w.log.Debugf("Snapshot: cannot tell whether waiting collection %s.%s can be read now (asked again): %v", db, name, err)
		return verdict{}, false
	}
	return verdict{db: db, name: name}, why == ""
}
