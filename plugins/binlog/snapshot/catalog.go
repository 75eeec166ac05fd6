package snapshot

import (
	"context"
	"fmt"
	"slices"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// CatalogSource is the part of the source's API the catalog copy reads.
type CatalogSource interface {
	DescribeFull(ctx context.Context, db, coll string) (*milvuspb.DescribeCollectionResponse, error)
	Partitions(ctx context.Context, db, coll string) ([]string, error)
	LoadedPartitions(ctx context.Context, db, coll string) ([]string, error)
	Indexes(ctx context.Context, db, coll string) ([]*milvuspb.IndexDescription, error)
}

// Catalog is what the copy sends for one collection before its rows (the
// database, the collection with its schema and properties, every partition,
// every index) and after them (aliases, then the load state, so that the
// target loads once the rows are in).
type Catalog struct {
	Before, After []*wal.Event
	Schema        *milvuspb.DescribeCollectionResponse
	Partitions    []string
	PartitionKey  bool
	Loaded        []string // partitions loaded on the source (none: not loaded)
	Indexes       []*milvuspb.IndexDescription
}

// ReadCatalog describes collection c on the source and builds its events,
// stamped ts (the snapshot's guarantee timestamp).
func ReadCatalog(ctx context.Context, src CatalogSource, c contract.SnapshotCollection, ts uint64) (*Catalog, error) {
	cat, err := describeCatalog(ctx, src, c)
	if err != nil {
		return nil, err
	}
	mk := catalogEvents{c: c, ts: ts}
	if err := mk.addBefore(cat); err != nil {
		return nil, err
	}
	if err := mk.addAfter(cat); err != nil {
		return nil, err
	}
	return cat, nil
}

// describeCatalog asks the source for collection c's schema, partitions,
// indexes and load state (what an earlier run of the copy loaded left out).
func describeCatalog(ctx context.Context, src CatalogSource, c contract.SnapshotCollection) (*Catalog, error) {
	desc, err := src.DescribeFull(ctx, c.DB, c.Name)
	if err != nil {
		return nil, fmt.Errorf("describe %s.%s: %w", c.DB, c.Name, err)
	}
	parts, err := src.Partitions(ctx, c.DB, c.Name)
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s.%s: %w", c.DB, c.Name, err)
	}
	indexes, err := src.Indexes(ctx, c.DB, c.Name)
	if err != nil {
		return nil, fmt.Errorf("list indexes of %s.%s: %w", c.DB, c.Name, err)
	}
	loaded, err := src.LoadedPartitions(ctx, c.DB, c.Name)
	if err != nil {
		return nil, fmt.Errorf("list loaded partitions of %s.%s: %w", c.DB, c.Name, err)
	}
	// What an earlier run of the copy loaded is not the source's load state.
	if slices.Contains(c.TempLoaded, "*") {
		loaded = nil
	} else {
		loaded = slices.DeleteFunc(loaded, func(p string) bool { return slices.Contains(c.TempLoaded, p) })
	}
	cat := &Catalog{Schema: desc, Partitions: parts, Loaded: loaded, Indexes: indexes}
	for _, f := range desc.GetSchema().GetFields() {
		cat.PartitionKey = cat.PartitionKey || f.GetIsPartitionKey()
	}
	return cat, nil
}

// catalogEvents makes the catalog events of collection c, stamped ts.
type catalogEvents struct {
	c  contract.SnapshotCollection
	ts uint64
}

// event makes one event of c, its payload (if any) encoded.
func (m catalogEvents) event(op string, mt commonpb.MsgType, payload proto.Message) (*wal.Event, error) {
	c := m.c
	e := &wal.Event{Op: op, MsgType: mt, Ts: m.ts, BaseTs: m.ts, DbName: c.DB, CollectionName: c.Name, CollectionID: c.ID, Snapshot: true}
	if payload != nil {
		b, err := proto.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("encode %s of %s.%s: %w", op, c.DB, c.Name, err)
		}
		e.Payload = b
	}
	return e, nil
}

// add makes an event and appends it to list.
func (m catalogEvents) add(list *[]*wal.Event, op string, mt commonpb.MsgType, payload proto.Message) (*wal.Event, error) {
	e, err := m.event(op, mt, payload)
	if err == nil {
		*list = append(*list, e)
	}
	return e, err
}

// addBefore appends to cat.Before what goes before the rows: the database
// (unless the default one), the collection, its partitions and indexes.
func (m catalogEvents) addBefore(cat *Catalog) error {
	c := m.c
	if c.DB != contract.DefaultDatabase {
		e, err := m.add(&cat.Before, contract.OpCreateDatabase, commonpb.MsgType_CreateDatabase, &milvuspb.CreateDatabaseRequest{DbName: c.DB})
		if err != nil {
			return err
		}
		e.CollectionName, e.CollectionID = "", 0
	}
	if err := m.addCollection(cat); err != nil {
		return err
	}
	if !cat.PartitionKey {
		for _, p := range cat.Partitions {
			if p == "_default" {
				continue
			}
			e, err := m.add(&cat.Before, contract.OpCreatePartition, commonpb.MsgType_CreatePartition, nil)
			if err != nil {
				return err
			}
			e.PartitionName = p
		}
	}
	for _, ix := range cat.Indexes {
		if _, err := m.add(&cat.Before, contract.OpCreateIndex, commonpb.MsgType_CreateIndex, &milvuspb.CreateIndexRequest{
			DbName: c.DB, CollectionName: c.Name, FieldName: ix.GetFieldName(), IndexName: ix.GetIndexName(), ExtraParams: ix.GetParams(),
		}); err != nil {
			return err
		}
	}
	return nil
}

// addCollection appends the collection's create, with its schema,
// channels, consistency level and properties, to cat.Before.
func (m catalogEvents) addCollection(cat *Catalog) error {
	c, desc := m.c, cat.Schema
	schema, err := proto.Marshal(desc.GetSchema())
	if err != nil {
		return fmt.Errorf("encode the schema of %s.%s: %w", c.DB, c.Name, err)
	}
	create, err := m.add(&cat.Before, contract.OpCreateCollection, commonpb.MsgType_CreateCollection, &msgpb.CreateCollectionRequest{
		CollectionID: c.ID, Schema: schema, VirtualChannelNames: desc.GetVirtualChannelNames(), PhysicalChannelNames: desc.GetPhysicalChannelNames(),
		PartitionIDs: make([]int64, len(cat.Partitions)),
	})
	if err != nil {
		return err
	}
	create.ConsistencyLevel = desc.GetConsistencyLevel().String()
	create.Properties = map[string]string{}
	for _, kv := range desc.GetProperties() {
		create.Properties[kv.GetKey()] = kv.GetValue()
	}
	return nil
}

// addAfter appends to cat.After what goes after the rows: the aliases, then
// the load state.
func (m catalogEvents) addAfter(cat *Catalog) error {
	c := m.c
	aliases := slices.Sorted(slices.Values(cat.Schema.GetAliases()))
	for _, a := range aliases {
		e, err := m.add(&cat.After, contract.OpCreateAlias, commonpb.MsgType_CreateAlias, nil)
		if err != nil {
			return err
		}
		e.Alias = a
	}
	switch {
	case len(cat.Loaded) == 0:
	case len(cat.Loaded) == len(cat.Partitions) || cat.PartitionKey:
		if _, err := m.add(&cat.After, contract.OpLoadCollection, commonpb.MsgType_LoadCollection,
			&milvuspb.LoadCollectionRequest{DbName: c.DB, CollectionName: c.Name}); err != nil {
			return err
		}
	default:
		e, err := m.add(&cat.After, contract.OpLoadPartitions, commonpb.MsgType_LoadPartitions, nil)
		if err != nil {
			return err
		}
		e.Partitions = slices.Sorted(slices.Values(cat.Loaded))
	}
	return nil
}
