// Package upsert decides which WAL events form a source upsert. Milvus 2.3
// writes an upsert as an Insert and a Delete of the same keys, collection and
// timestamp (the Insert carries 0 in its header timestamp). The merger marks
// such pairs (Mark) and holds an Insert until its Delete is queued
// (IsInsertHalf, Completes); a channel reader notices an Insert whose Delete
// never came (Tracker). milvus_apply applies a marked pair as one upsert.
package upsert

import (
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// IsInsertHalf reports whether ev is the Insert of an upsert: it carries 0
// in Base.Timestamp (a plain insert carries its timestamp there).
func IsInsertHalf(ev *wal.Event) bool { return ev.Op == contract.OpInsert && ev.BaseTs == 0 }

// Completes reports whether d is the Delete of upsert Insert ins.
func Completes(d, ins *wal.Event) bool {
	return d.Op == contract.OpDelete && d.Ts == ins.Ts && d.CollectionID == ins.CollectionID
}

// Mark marks the Insert and Delete events of one collection among evs (every
// event of one timestamp) as one upsert. A derived Delete (keys the source
// no longer has, see package repair) is never an upsert half: it must apply
// even beside an upsert's Insert of the same timestamp.
func Mark(evs []*wal.Event) {
	inserts, deletes := map[int64]bool{}, map[int64]bool{}
	for _, ev := range evs {
		switch ev.Op {
		case contract.OpInsert:
			inserts[ev.CollectionID] = true
		case contract.OpDelete:
			deletes[ev.CollectionID] = true
		}
	}
	for _, ev := range evs {
		if ev.IsRow() && inserts[ev.CollectionID] && deletes[ev.CollectionID] && !(ev.Derived && ev.Op == contract.OpDelete) {
			ev.Upsert = true
		}
	}
}

// Tracker notes, for one channel, the upsert Inserts whose Delete was not
// read yet. When Pulsar fails between the two (seen when it was stopped under
// load), the Insert is in the WAL, the Delete never is, and the call fails:
// the source then holds the new rows beside the old ones. The Delete is known
// to be lost once the channel ticks at or beyond the upsert's timestamp:
// Milvus ticks past a write only after all its messages are out.
type Tracker struct{ unpaired []wal.Event }

// Track notes an upsert's Insert (as read, before any repair) or clears the
// one a Delete completes.
func (t *Tracker) Track(ev *wal.Event) {
	switch {
	case IsInsertHalf(ev):
		t.unpaired = append(t.unpaired, *ev)
	case ev.Op == contract.OpDelete:
		kept := t.unpaired[:0]
		for _, u := range t.unpaired {
			if !Completes(ev, &u) {
				kept = append(kept, u)
			}
		}
		t.unpaired = kept
	}
}

// Pending reports whether an Insert waits for its Delete.
func (t *Tracker) Pending() bool { return len(t.unpaired) > 0 }

// Broken returns (and forgets) the upsert Inserts at or before a time tick
// whose Delete did not come.
func (t *Tracker) Broken(tickTs uint64) []wal.Event {
	kept := t.unpaired[:0]
	var broken []wal.Event
	for _, u := range t.unpaired {
		if u.Ts <= tickTs {
			broken = append(broken, u)
		} else {
			kept = append(kept, u)
		}
	}
	t.unpaired = kept
	return broken
}
