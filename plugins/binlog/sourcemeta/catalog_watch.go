package sourcemeta

import (
	"context"
	"maps"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// CatalogCheckEvery is how often a channel asks the source for the
// partitions and properties of its collections.
const CatalogCheckEvery = 3 * time.Second

// CatalogSource reads what the 2.3 WAL does not carry from the source.
type CatalogSource interface {
	Partitions(ctx context.Context, db, coll string) ([]string, error)
	// DescribeCollection returns a collection's consistency level and
	// properties; found is false when the source no longer has it.
	DescribeCollection(ctx context.Context, id int64) (level string, props map[string]string, found bool, err error)
}

// CatalogWatch finds what a channel's collections have on the source but
// the log does not show: Milvus 2.3 writes no CreatePartition and no
// AlterCollection message, so a partition that has no rows yet, or a
// property set after creation (collection.ttl.seconds...), would otherwise
// never reach the target. The watch turns each into a create_partition or
// alter_collection event. One watch per channel, used by that channel's
// reader only: its events sit at one of the channel's time ticks, after the
// collection's CreateCollection on the same channel, so the output never
// sees them before their collection.
type CatalogWatch struct {
	src   CatalogSource
	every time.Duration
	now   func() time.Time
	last  time.Time
	colls map[int64]*watchedColl
}

type watchedColl struct {
	ref   contract.CollectionRef
	parts map[string]bool   // partitions the target gets from the stream already
	props map[string]string // properties the target got (at creation or from this watch)
}

// NewCatalogWatch watches with src, asking every `every`.
func NewCatalogWatch(src CatalogSource, every time.Duration) *CatalogWatch {
	return &CatalogWatch{src: src, every: every, now: time.Now, colls: map[int64]*watchedColl{}}
}

// Observe follows an event the channel passes on: the collections it
// creates or writes, the partitions its rows name, and what it drops.
func (w *CatalogWatch) Observe(ev *wal.Event) {
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
	case contract.OpCreateCollection, contract.OpInsert, contract.OpCreatePartition, contract.OpAlterCollection:
	default:
		return
	}
	if ev.CollectionName == "" {
		return
	}
	c := w.colls[ev.CollectionID]
	if c == nil || ev.Op == contract.OpCreateCollection {
		c = &watchedColl{parts: map[string]bool{"_default": true}, props: map[string]string{}}
		w.colls[ev.CollectionID] = c
	}
	c.ref = contract.CollectionRef{DB: ev.DbName, Name: ev.CollectionName}
	if ev.PartitionName != "" {
		c.parts[ev.PartitionName] = true
	}
	if ev.Op == contract.OpCreateCollection || ev.Op == contract.OpAlterCollection {
		c.props = maps.Clone(ev.Properties)
		if c.props == nil {
			c.props = map[string]string{}
		}
	}
}

// Due reports whether a check is due.
func (w *CatalogWatch) Due() bool {
	return len(w.colls) > 0 && w.now().Sub(w.last) >= w.every
}

// Check asks the source for the partitions and properties of every watched
// collection and returns a create_partition event for each new partition
// and an alter_collection event for changed properties, at the time tick ts
// and log position pos of channel. A collection the source cannot answer
// for is tried again at the next check (the first error is returned with
// the events found); one it no longer has is left to its DropCollection.
func (w *CatalogWatch) Check(ctx context.Context, channel string, ts uint64, pos []byte) ([]*wal.Event, error) {
	w.last = w.now()
	var out []*wal.Event
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && !contract.NotFoundErr(err) {
			firstErr = err
		}
	}
	event := func(id int64, c *watchedColl, op string, mt commonpb.MsgType) *wal.Event {
		return &wal.Event{Op: op, MsgType: mt, Ts: ts, BaseTs: ts, DbName: c.ref.DB, CollectionName: c.ref.Name,
			CollectionID: id, Channel: channel, Position: pos, Derived: true}
	}
	for id, c := range w.colls {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		names, err := w.src.Partitions(qctx, c.ref.DB, c.ref.Name)
		var props map[string]string
		var found bool
		if err == nil {
			_, props, found, err = w.src.DescribeCollection(qctx, id)
		}
		cancel()
		if err != nil {
			keep(err)
			continue
		}
		for _, p := range names {
			if !c.parts[p] {
				c.parts[p] = true
				e := event(id, c, contract.OpCreatePartition, commonpb.MsgType_CreatePartition)
				e.PartitionName = p
				out = append(out, e)
			}
		}
		if found && !maps.Equal(props, c.props) && !(len(props) == 0 && len(c.props) == 0) {
			c.props = props
			e := event(id, c, contract.OpAlterCollection, commonpb.MsgType_AlterCollection)
			e.Properties = maps.Clone(props)
			out = append(out, e)
		}
	}
	return out, firstErr
}
