package snapshot

import (
	"context"
	"errors"
	"slices"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Phases is the snapshot's phase machine, the only writer of its state
// (stored with the checkpoint through save; a supervisor such as the control
// plane only reads it):
//
//	pending → copying → catching_up → done
//
// pending: planned (the collections and the guarantee timestamp), nothing
// copied; copying: the Runner copies (its progress is written by the Runner,
// in this package too); catching_up: the copy is over and the stream, started
// at the positions pinned before it, has not yet passed the copy's
// timestamp; done. A collection that cannot be read yet waits: the stream
// drops its rows until it is copied on its own (Readable, then a Runner).
// Calls come from one goroutine, the input's producer.
type Phases struct {
	save  Progress
	state func() *contract.SnapshotState // the stored state (a copy)
	log   *service.Logger
	endTs uint64 // the copy's end while the stream catches up to it (0: not catching up)
}

// NewPhases returns the machine over the state that state reads and save
// changes (checkpoint.Checkpointer's Snapshot and UpdateSnapshot).
func NewPhases(save Progress, state func() *contract.SnapshotState, log *service.Logger) *Phases {
	p := &Phases{save: save, state: state, log: log}
	if st := state(); st != nil && st.State == contract.SnapshotCatchingUp {
		p.endTs = st.EndTs // marked done once the stream is past it
	}
	return p
}

// Request is the snapshot state of a first checkpoint that asks for a
// snapshot: the input plans it when it starts (positions are pinned first).
func Request() *contract.SnapshotState {
	return &contract.SnapshotState{State: contract.SnapshotPending}
}

// Unplanned reports whether st asks for a snapshot not planned yet.
func Unplanned(st *contract.SnapshotState) bool {
	return st != nil && st.State == contract.SnapshotPending && st.GuaranteeTs == 0
}

// Plan stores the plan (the collections, in ID order) and the guarantee
// timestamp, taken after the positions were pinned, in one write.
func (p *Phases) Plan(ctx context.Context, plan []contract.SnapshotCollection, guaranteeTs uint64) error {
	return p.save(ctx, func(s *contract.SnapshotState) {
		*s = contract.SnapshotState{State: contract.SnapshotPending, GuaranteeTs: guaranteeTs, Collections: plan}
	})
}

// Begin moves a pending snapshot to copying.
func (p *Phases) Begin(ctx context.Context) error {
	st := p.state()
	if st == nil {
		return errors.New("snapshot: no progress stored")
	}
	if st.State != contract.SnapshotPending {
		return nil
	}
	return p.save(ctx, func(s *contract.SnapshotState) { s.State = contract.SnapshotCopying })
}

// ErrIncomplete: the runner ended with collections not done (one failed for
// a reason that is not fatal): the run is reopened and resumes.
var ErrIncomplete = errors.New("the snapshot ended with collections not copied; resuming from the checkpoint")

// Copied records the first copy over: catching_up until the stream passes
// the copy's timestamp (done at once when nothing was copied). A collection
// that waits does not hold the rest: the stream starts, dropping its rows.
func (p *Phases) Copied(ctx context.Context) error {
	st := p.state()
	if st == nil || slices.ContainsFunc(st.Collections, func(c contract.SnapshotCollection) bool { return !c.Done && c.Waiting == "" }) {
		return ErrIncomplete
	}
	if err := p.save(ctx, func(s *contract.SnapshotState) {
		s.State, s.EndTs = contract.SnapshotCatchingUp, s.GuaranteeTs
		if len(s.Collections) == 0 {
			s.State = contract.SnapshotDone // nothing copied: nothing to catch up with
		}
	}); err != nil {
		return err
	}
	total, done, rows := st.Progress()
	p.log.Infof("Snapshot: %d of %d collections copied (%d rows); streaming the changes made since the pin", done, total, rows)
	if waits := st.Waiting(); len(waits) > 0 {
		p.log.Warnf("Snapshot: %d collections wait (their rows are copied once they can be read; the stream drops them meanwhile): %v", len(waits), waits)
	}
	p.endTs = st.GuaranteeTs
	return nil
}

// CaughtUp records the snapshot done once passed says the stream is past
// the copy's end (its ticks or its events).
func (p *Phases) CaughtUp(ctx context.Context, passed func(ts uint64) bool) {
	if p.endTs == 0 || !passed(p.endTs) {
		return
	}
	if err := p.save(ctx, func(s *contract.SnapshotState) {
		if s.State == contract.SnapshotCatchingUp {
			s.State = contract.SnapshotDone
		}
	}); err == nil {
		p.endTs = 0
	}
}

// Gone records waiting collections dropped on the source: done, their drop
// is in the stream.
func (p *Phases) Gone(ctx context.Context, ids []int64) error {
	return p.save(ctx, func(s *contract.SnapshotState) {
		for _, id := range ids {
			if sc := s.Collection(id); sc != nil {
				p.log.Infof("Snapshot: %s.%s, whose copy waited, is gone from the source; the stream carries its drop", sc.DB, sc.Name)
				sc.Done, sc.Waiting, sc.Gone = true, "", "dropped on the source while its copy waited"
			}
		}
	})
}

// Readable records waiting collections (by ID, with their names now) to be
// copied at source timestamp ts: deferred copies (State.Deferred).
func (p *Phases) Readable(ctx context.Context, names map[int64]contract.CollectionRef, ts uint64) error {
	return p.save(ctx, func(s *contract.SnapshotState) {
		for id, ref := range names {
			if sc := s.Collection(id); sc != nil {
				p.log.Infof("Snapshot: %s.%s can be read now: copying it at source timestamp %d while the stream holds", ref.DB, ref.Name, ts)
				sc.DB, sc.Name = ref.DB, ref.Name
				sc.Waiting, sc.GuaranteeTs, sc.CatalogDone, sc.Parts = "", ts, false, nil
			}
		}
	})
}

// DeferredCopied checks that the deferred copies are over.
func (p *Phases) DeferredCopied() error {
	st := p.state()
	if len(st.Deferred()) > 0 {
		return ErrIncomplete
	}
	if waits := st.Waiting(); len(waits) > 0 {
		p.log.Infof("Snapshot: the stream goes on; %d collections still wait: %v", len(waits), waits)
	} else {
		p.log.Infof("Snapshot: the collections that waited are copied; the stream goes on")
	}
	return nil
}
