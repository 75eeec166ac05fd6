package sourcemeta

import (
	"context"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// PartitionCheckEvery is how often a channel asks the source for the
// partitions of its collections.
const PartitionCheckEvery = 3 * time.Second

// PartitionLister lists a collection's partitions on the source.
type PartitionLister interface {
	Partitions(ctx context.Context, db, coll string) ([]string, error)
}

// PartitionWatch finds the partitions a channel's collections have on the
// source but have not shown in the log. Milvus 2.3 writes no CreatePartition
// message, so a partition that has no rows yet would otherwise never reach
// the target; the watch turns each into a create_partition event. One watch
// per channel, used by that channel's reader only: its events sit at one of
// the channel's time ticks, after the collection's CreateCollection on the
// same channel, so the output never sees a partition before its collection.
type PartitionWatch struct {
	src   PartitionLister
	every time.Duration
	now   func() time.Time
	last  time.Time
	colls map[int64]*watchedColl
}

type watchedColl struct {
	ref   contract.CollectionRef
	parts map[string]bool // partitions the target gets from the stream already
}

// NewPartitionWatch watches with src, asking every `every`.
func NewPartitionWatch(src PartitionLister, every time.Duration) *PartitionWatch {
	return &PartitionWatch{src: src, every: every, now: time.Now, colls: map[int64]*watchedColl{}}
}

// Observe follows an event the channel passes on: the collections it
// creates or writes, the partitions its rows name, and what it drops.
func (w *PartitionWatch) Observe(ev *wal.Event) {
	if ev.CollectionID == 0 || ev.SourceGone {
		return
	}
	switch ev.Op {
	case contract.OpDropCollection:
		delete(w.colls, ev.CollectionID)
		return
	case contract.OpDropPartition:
		if c := w.colls[ev.CollectionID]; c != nil {
			delete(c.parts, ev.PartitionName)
		}
		return
	case contract.OpCreateCollection, contract.OpInsert, contract.OpCreatePartition:
	default:
		return
	}
	if ev.CollectionName == "" {
		return
	}
	c := w.colls[ev.CollectionID]
	if c == nil {
		c = &watchedColl{parts: map[string]bool{"_default": true}}
		w.colls[ev.CollectionID] = c
	}
	c.ref = contract.CollectionRef{DB: ev.DbName, Name: ev.CollectionName}
	if ev.PartitionName != "" {
		c.parts[ev.PartitionName] = true
	}
}

// Due reports whether a check is due.
func (w *PartitionWatch) Due() bool {
	return len(w.colls) > 0 && w.now().Sub(w.last) >= w.every
}

// Check asks the source for the partitions of every watched collection and
// returns a create_partition event for each new one, at the time tick ts and
// log position pos of channel. A collection the source cannot list is tried
// again at the next check (the error is returned with the events found).
func (w *PartitionWatch) Check(ctx context.Context, channel string, ts uint64, pos []byte) ([]*wal.Event, error) {
	w.last = w.now()
	var out []*wal.Event
	var firstErr error
	for id, c := range w.colls {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		names, err := w.src.Partitions(qctx, c.ref.DB, c.ref.Name)
		cancel()
		if err != nil {
			if firstErr == nil && !contract.NotFoundErr(err) {
				firstErr = err
			}
			continue
		}
		for _, p := range names {
			if c.parts[p] {
				continue
			}
			c.parts[p] = true
			out = append(out, &wal.Event{
				Op: contract.OpCreatePartition, MsgType: commonpb.MsgType_CreatePartition, Ts: ts, BaseTs: ts,
				DbName: c.ref.DB, CollectionName: c.ref.Name, CollectionID: id, PartitionName: p,
				Channel: channel, Position: pos, Derived: true,
			})
		}
	}
	return out, firstErr
}
