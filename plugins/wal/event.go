// Package wal decodes the messages of a Milvus 2.3 write-ahead log into
// events and renders their rows (pure: no I/O). Every log reader (Pulsar
// today) hands its payloads to Decode.
package wal

import (
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// opByMsgType lists every Milvus 2.3 message type that the WAL reader understands.
var opByMsgType = map[commonpb.MsgType]string{
	commonpb.MsgType_Insert:            contract.OpInsert,
	commonpb.MsgType_Delete:            contract.OpDelete,
	commonpb.MsgType_CreateCollection:  contract.OpCreateCollection,
	commonpb.MsgType_DropCollection:    contract.OpDropCollection,
	commonpb.MsgType_CreatePartition:   contract.OpCreatePartition,
	commonpb.MsgType_DropPartition:     contract.OpDropPartition,
	commonpb.MsgType_CreateIndex:       contract.OpCreateIndex,
	commonpb.MsgType_DropIndex:         contract.OpDropIndex,
	commonpb.MsgType_LoadCollection:    contract.OpLoadCollection,
	commonpb.MsgType_ReleaseCollection: contract.OpReleaseCollection,
	commonpb.MsgType_Flush:             contract.OpFlush,
	commonpb.MsgType_CreateDatabase:    contract.OpCreateDatabase,
	commonpb.MsgType_DropDatabase:      contract.OpDropDatabase,
	commonpb.MsgType_TimeTick:          contract.OpTimeTick,
}

// Event is one decoded WAL message. Only the envelope is decoded eagerly:
// the row payload (FieldsData, primary keys, schema) stays in Payload, so a
// message of a collection that is filtered out costs almost nothing.
type Event struct {
	Op      string
	MsgType commonpb.MsgType
	// Ts orders the event: the row timestamps for inserts and deletes (an
	// upsert's insert carries 0 in Base.Timestamp), Base.Timestamp otherwise.
	Ts             uint64
	BaseTs         uint64
	IsReplicate    bool
	DbName         string
	CollectionName string
	// CollectionNames is set for Flush, which may name several collections.
	CollectionNames []string
	CollectionID    int64
	PartitionName   string
	PartitionID     int64
	ShardName       string
	IndexName       string
	FieldName       string
	Rows            int64
	Payload         []byte

	// Filled in by the reader and the merger.
	Channel  string
	Position []byte // pulsar.MessageID.Serialize()
	Upsert   bool   // part of a source upsert (Insert+Delete, same collection and ts)
	// Derived: made by the reader from the source's current rows in place of
	// a late write (package repair); never half of an upsert.
	Derived bool
	// For create_collection, what the WAL message lacks, from the source's
	// DescribeCollection (empty when the collection is gone already).
	ConsistencyLevel string
	// SourceGone: the source no longer has the collection (read from history).
	SourceGone bool
	Properties map[string]string
	// From the source's catalog (ops the 2.3 WAL does not log).
	RenamedFrom *contract.CollectionRef // rename_collection: the previous names
	Alias       string                  // create_alias, drop_alias
	Partitions  []string                // load_partitions, release_partitions
	// Snapshot: copied from what the source holds, not read from its log.
	Snapshot bool
}

// collectionNames returns every collection the event names.
func (e *Event) Names() []string {
	if len(e.CollectionNames) > 0 {
		return e.CollectionNames
	}
	if e.CollectionName != "" {
		return []string{e.CollectionName}
	}
	return nil
}

// Meta is the message metadata of the event (contract.Meta); msgType is
// set for the protobuf format only.
func (e *Event) Meta(withMsgType bool) contract.Meta {
	m := contract.Meta{
		Op: e.Op, DB: e.DbName, Collections: e.Names(), CollectionID: e.CollectionID, Partition: e.PartitionName,
		Channel: e.Channel, Shard: e.ShardName, Ts: e.Ts, Position: e.Position, Rows: e.Rows, Upsert: e.Upsert,
		ConsistencyLevel: e.ConsistencyLevel, SourceDropped: e.SourceGone, Properties: e.Properties,
		RenamedFrom: e.RenamedFrom, Alias: e.Alias, Partitions: e.Partitions, Snapshot: e.Snapshot,
	}
	if withMsgType {
		m.MsgType = e.MsgType.String()
	}
	return m
}

// IsRow reports whether the event changes rows (insert or delete).
func (e *Event) IsRow() bool { return contract.IsRowOp(e.Op) }
