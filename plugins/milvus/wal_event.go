package milvus

import (
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"time"
)

// Op names, as they appear in the `milvus_op` metadata key and in JSON output.
const (
	OpInsert            = "insert"
	OpDelete            = "delete"
	OpCreateCollection  = "create_collection"
	OpDropCollection    = "drop_collection"
	OpCreatePartition   = "create_partition"
	OpDropPartition     = "drop_partition"
	OpCreateIndex       = "create_index"
	OpDropIndex         = "drop_index"
	OpLoadCollection    = "load_collection"
	OpReleaseCollection = "release_collection"
	OpFlush             = "flush"
	OpCreateDatabase    = "create_database"
	OpDropDatabase      = "drop_database"
	OpTimeTick          = "time_tick"
)

// opByMsgType lists every Milvus 2.3 message type that the WAL reader understands.
var opByMsgType = map[commonpb.MsgType]string{
	commonpb.MsgType_Insert:            OpInsert,
	commonpb.MsgType_Delete:            OpDelete,
	commonpb.MsgType_CreateCollection:  OpCreateCollection,
	commonpb.MsgType_DropCollection:    OpDropCollection,
	commonpb.MsgType_CreatePartition:   OpCreatePartition,
	commonpb.MsgType_DropPartition:     OpDropPartition,
	commonpb.MsgType_CreateIndex:       OpCreateIndex,
	commonpb.MsgType_DropIndex:         OpDropIndex,
	commonpb.MsgType_LoadCollection:    OpLoadCollection,
	commonpb.MsgType_ReleaseCollection: OpReleaseCollection,
	commonpb.MsgType_Flush:             OpFlush,
	commonpb.MsgType_CreateDatabase:    OpCreateDatabase,
	commonpb.MsgType_DropDatabase:      OpDropDatabase,
	commonpb.MsgType_TimeTick:          OpTimeTick,
}

// walEvent is one decoded WAL message. Only the envelope is decoded eagerly:
// the row payload (FieldsData, primary keys, schema) stays in Payload, so a
// message of a collection that is filtered out costs almost nothing.
type walEvent struct {
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
	// a late write (late_repair.go); never half of an upsert.
	Derived  bool
	queuedAt time.Time // when the merger queued it (to bound the wait for an upsert's Delete)
	// For create_collection, what the WAL message lacks, from the source's
	// DescribeCollection (empty when the collection is gone already).
	ConsistencyLevel string
	// SourceGone: the source no longer has the collection (read from history).
	SourceGone bool
	Properties map[string]string
}

// collectionNames returns every collection the event names.
func (e *walEvent) collectionNames() []string {
	if len(e.CollectionNames) > 0 {
		return e.CollectionNames
	}
	if e.CollectionName != "" {
		return []string{e.CollectionName}
	}
	return nil
}
