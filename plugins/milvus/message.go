package milvus

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// Metadata keys set on every message.
const (
	metaOp            = "milvus_op"
	metaDB            = "milvus_db"
	metaCollection    = "milvus_collection"
	metaCollectionID  = "milvus_collection_id"
	metaPartition     = "milvus_partition"
	metaChannel       = "milvus_channel"
	metaShard         = "milvus_shard"
	metaTs            = "milvus_ts"
	metaTime          = "milvus_time"
	metaPosition      = "milvus_position"
	metaRows          = "milvus_rows"
	metaUpsert        = "milvus_upsert"
	metaMsgType       = "milvus_msg_type"
	metaConsistency   = "milvus_consistency_level"
	metaSourceDropped = "milvus_source_dropped"
	metaProperties    = "milvus_collection_properties"
)

// eventMessages turns one released event into Benthos messages in the
// configured format.
func eventMessages(ev *walEvent, format string) ([]*service.Message, error) {
	if format == formatJSON {
		return eventJSONMessages(ev)
	}
	msg := service.NewMessage(ev.Payload)
	setEventMeta(msg, ev)
	msg.MetaSetMut(metaMsgType, ev.MsgType.String())
	return []*service.Message{msg}, nil
}

func setEventMeta(msg *service.Message, ev *walEvent) {
	msg.MetaSetMut(metaOp, ev.Op)
	msg.MetaSetMut(metaDB, ev.DbName)
	msg.MetaSetMut(metaCollection, strings.Join(ev.collectionNames(), ","))
	if ev.CollectionID != 0 {
		msg.MetaSetMut(metaCollectionID, strconv.FormatInt(ev.CollectionID, 10))
	}
	if ev.PartitionName != "" {
		msg.MetaSetMut(metaPartition, ev.PartitionName)
	}
	msg.MetaSetMut(metaChannel, ev.Channel)
	if ev.ShardName != "" {
		msg.MetaSetMut(metaShard, ev.ShardName)
	}
	msg.MetaSetMut(metaTs, strconv.FormatUint(ev.Ts, 10))
	msg.MetaSetMut(metaTime, physicalTime(ev.Ts).Format(time.RFC3339Nano))
	msg.MetaSetMut(metaPosition, base64.StdEncoding.EncodeToString(ev.Position))
	if ev.Op == OpInsert || ev.Op == OpDelete {
		msg.MetaSetMut(metaRows, strconv.FormatInt(ev.Rows, 10))
	}
	if ev.Upsert {
		msg.MetaSetMut(metaUpsert, "true")
	}
	if ev.SourceGone {
		msg.MetaSetMut(metaSourceDropped, "true")
	}
	if ev.ConsistencyLevel != "" {
		msg.MetaSetMut(metaConsistency, ev.ConsistencyLevel)
	}
	if len(ev.Properties) > 0 {
		if b, err := json.Marshal(ev.Properties); err == nil {
			msg.MetaSetMut(metaProperties, string(b))
		}
	}
}

// physicalTime converts a Milvus hybrid timestamp (physical ms << 18 |
// logical counter) to wall-clock time.
func physicalTime(ts uint64) time.Time {
	return time.UnixMilli(int64(ts >> 18)).UTC()
}
