package sourcemeta

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// CatalogCheckEvery is how often a channel asks the source for the
// catalog of its collections.
const CatalogCheckEvery = 3 * time.Second

// liveWithin: partition loads and releases are copied only while the
// channel reads near the head of its log; replaying history, the source's
// current load state would be undone by the history that follows.
const liveWithin = 30 * time.Second

// CatalogSource reads what the 2.3 WAL does not carry from the source.
type CatalogSource interface {
	Partitions(ctx context.Context, db, coll string) ([]string, error)
	LoadedPartitions(ctx context.Context, db, coll string) ([]string, error)
	DescribeID(ctx context.Context, id int64, ts uint64) (Description, error)
}

// CatalogWatch finds what a channel's collections have on the source but
// the log does not show. Milvus 2.3 writes no CreatePartition,
// AlterCollection, RenameCollection, alias or partition load/release
// message, so the watch compares the source's catalog with what it passed
// on and turns each difference into an event (create_partition,
// alter_collection, rename_collection, create_alias / drop_alias,
// load_partitions / release_partitions). One watch per channel, used by
// that channel's reader only: its events sit at one of the channel's time
// ticks, after the collection's CreateCollection on the same channel, so the
// output never sees them before their collection.
type CatalogWatch struct {
	src     CatalogSource
	catalog *Catalog // shared listing: renames (nil: not followed)
	every   time.Duration
	now     func() time.Time
	last    time.Time
	colls   map[int64]*watchedColl
}

type watchedColl struct {
	id      int64
	ref     contract.CollectionRef
	parts   map[string]bool   // partitions the target gets from the stream already
	props   map[string]string // properties the target got (at creation or from this watch)
	aliases map[string]bool   // nil: not asked yet
	loaded  map[string]bool   // nil: not compared yet
}

// NewCatalogWatch watches with src, asking every `every`; catalog (shared
// by every channel) gives the current names of collections.
func NewCatalogWatch(src CatalogSource, catalog *Catalog, every time.Duration) *CatalogWatch {
	return &CatalogWatch{src: src, catalog: catalog, every: every, now: time.Now, colls: map[int64]*watchedColl{}}
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
		c = &watchedColl{id: ev.CollectionID, parts: map[string]bool{"_default": true}, props: map[string]string{}}
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

// Seed watches a collection streamed before this run (its names kept in the
// checkpoint): the first check compares everything the source has for it
// with what it last passed on, so what changed while no reader ran (and
// what changes while it sees no writes) reaches the target too. The output
// applies each of these idempotently.
func (w *CatalogWatch) Seed(id int64, ref contract.CollectionRef) {
	if _, ok := w.colls[id]; ok || id == 0 || ref.Name == "" {
		return
	}
	w.colls[id] = &watchedColl{id: id, ref: ref, parts: map[string]bool{"_default": true}}
}

// Due reports whether a check is due.
func (w *CatalogWatch) Due() bool {
	return len(w.colls) > 0 && w.now().Sub(w.last) >= w.every
}

// Check asks the source for the catalog of every watched collection and
// returns the events for what changed, at the time tick ts and log position
// pos of channel. A collection the source cannot answer for is tried again
// at the next check (the first error is returned with the events found);
// one it no longer has is left to its DropCollection.
func (w *CatalogWatch) Check(ctx context.Context, channel string, ts uint64, pos []byte) ([]*wal.Event, error) {
	w.last = w.now()
	var out []*wal.Event
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && !contract.NotFoundErr(err) {
			firstErr = err
		}
	}
	live := w.now().Sub(contract.PhysicalTime(ts)) < liveWithin
	if w.catalog != nil {
		if err := w.catalog.Refresh(ctx, w.every); err != nil {
			keep(err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.colls)) {
		c := w.colls[id]
		var evs []*wal.Event
		event := func(op string, mt commonpb.MsgType) *wal.Event {
			e := &wal.Event{Op: op, MsgType: mt, Ts: ts, BaseTs: ts, DbName: c.ref.DB, CollectionName: c.ref.Name,
				CollectionID: id, Channel: channel, Position: pos, Derived: true}
			evs = append(evs, e)
			return e
		}
		var rename *wal.Event
		if w.catalog != nil {
			if cur, ok := w.catalog.Current(id); ok && cur != c.ref {
				from := c.ref
				c.ref = cur
				rename = event(contract.OpRenameCollection, commonpb.MsgType_RenameCollection)
				rename.RenamedFrom = &from
			}
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := w.checkOne(qctx, c, live, event)
		cancel()
		if err != nil {
			keep(err)
		}
		out = append(out, renameAfterAliasDrops(evs, rename)...)
	}
	return out, firstErr
}

// makeEvent makes (and keeps) one derived event of the collection being
// checked.
type makeEvent func(op string, mt commonpb.MsgType) *wal.Event

// checkOne compares one collection's partitions, properties, aliases and
// (when live) loaded partitions with the source's.
func (w *CatalogWatch) checkOne(ctx context.Context, c *watchedColl, live bool, event makeEvent) error {
	names, err := w.src.Partitions(ctx, c.ref.DB, c.ref.Name)
	if err != nil {
		return err
	}
	d, err := w.src.DescribeID(ctx, c.id, 0)
	if err != nil {
		return err
	}
	if !d.Found {
		return nil // dropped: its DropCollection follows
	}
	if !d.PartitionKey {
		c.diffPartitions(names, event)
	}
	if !maps.Equal(d.Props, c.props) && !(len(d.Props) == 0 && len(c.props) == 0) {
		c.props = d.Props
		event(contract.OpAlterCollection, commonpb.MsgType_AlterCollection).Properties = maps.Clone(d.Props)
	}
	c.diffAliases(setOf(d.Aliases), event)
	if !live || d.PartitionKey {
		return nil // partition-key collections load as a whole (LoadCollection, logged)
	}
	loadedNames, err := w.src.LoadedPartitions(ctx, c.ref.DB, c.ref.Name)
	if err != nil {
		return err
	}
	c.diffLoaded(names, setOf(loadedNames), event)
	return nil
}

// diffPartitions creates the partitions of names the target lacks.
func (c *watchedColl) diffPartitions(names []string, event makeEvent) {
	for _, p := range names {
		if !c.parts[p] {
			c.parts[p] = true
			event(contract.OpCreatePartition, commonpb.MsgType_CreatePartition).PartitionName = p
		}
	}
}

// diffAliases creates the aliases the target lacks and drops those the
// source no longer has, then remembers aliases.
func (c *watchedColl) diffAliases(aliases map[string]bool, event makeEvent) {
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		if !c.aliases[a] {
			event(contract.OpCreateAlias, commonpb.MsgType_CreateAlias).Alias = a
		}
	}
	for _, a := range slices.Sorted(maps.Keys(c.aliases)) {
		if !aliases[a] {
			event(contract.OpDropAlias, commonpb.MsgType_DropAlias).Alias = a
		}
	}
	c.aliases = aliases
}

// diffLoaded loads and releases the partitions of names whose load state
// on the source (loaded) changed, then remembers loaded.
func (c *watchedColl) diffLoaded(names []string, loaded map[string]bool, event makeEvent) {
	var load, release []string
	for _, p := range names {
		switch {
		case loaded[p] && (c.loaded == nil || !c.loaded[p]):
			load = append(load, p)
		case !loaded[p] && (c.loaded == nil || c.loaded[p]):
			release = append(release, p)
		}
	}
	if len(release) > 0 && (c.loaded != nil || len(loaded) > 0) {
		// A collection seen unloaded at the first check needs no release.
		event(contract.OpReleasePartitions, commonpb.MsgType_ReleasePartitions).Partitions = release
	}
	if len(load) > 0 {
		event(contract.OpLoadPartitions, commonpb.MsgType_LoadPartitions).Partitions = load
	}
	c.loaded = loaded
}

// renameAfterAliasDrops orders one collection's events: alias drops first
// (Milvus refuses to move a collection with aliases to another database, or
// to rename it onto a name that is still an alias), then the rename, then
// the rest.
func renameAfterAliasDrops(evs []*wal.Event, rename *wal.Event) []*wal.Event {
	if rename == nil {
		return evs
	}
	out := make([]*wal.Event, 0, len(evs))
	for _, e := range evs {
		if e.Op == contract.OpDropAlias {
			out = append(out, e)
		}
	}
	out = append(out, rename)
	for _, e := range evs {
		if e != rename && e.Op != contract.OpDropAlias {
			out = append(out, e)
		}
	}
	return out
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// RenameEvent is the rename_collection event of r at timestamp ts.
func RenameEvent(r Rename, channel string, ts uint64, pos []byte) *wal.Event {
	from := r.From
	return &wal.Event{Op: contract.OpRenameCollection, MsgType: commonpb.MsgType_RenameCollection, Ts: ts, BaseTs: ts,
		DbName: r.To.DB, CollectionName: r.To.Name, CollectionID: r.ID, Channel: channel, Position: pos, Derived: true, RenamedFrom: &from}
}
