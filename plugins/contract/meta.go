package contract

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// Metadata keys of a milvus_binlog message (the contract between the input
// and milvus_apply, and what other outputs see).
const (
	MetaOp            = "milvus_op"
	MetaDB            = "milvus_db"
	MetaCollection    = "milvus_collection" // a flush may name several, comma-joined
	MetaCollectionID  = "milvus_collection_id"
	MetaPartition     = "milvus_partition"
	MetaChannel       = "milvus_channel"
	MetaShard         = "milvus_shard"
	MetaTs            = "milvus_ts"
	MetaTime          = "milvus_time"
	MetaPosition      = "milvus_position"
	MetaRows          = "milvus_rows"
	MetaUpsert        = "milvus_upsert"
	MetaMsgType       = "milvus_msg_type"
	MetaConsistency   = "milvus_consistency_level"
	MetaSourceDropped = "milvus_source_dropped"
	MetaProperties    = "milvus_collection_properties"
	MetaRenamedFrom   = "milvus_renamed_from"
	MetaAlias         = "milvus_alias"
	MetaPartitions    = "milvus_partitions"
	MetaSnapshot      = "milvus_snapshot"
)

// MetaDocs describes every metadata key, for the generated plugin docs.
var MetaDocs = [][2]string{
	{MetaOp, "insert, delete, create_collection, drop_collection, alter_collection, rename_collection, create_alias, drop_alias, create_partition, drop_partition, load_partitions, release_partitions, create_index, drop_index, load_collection, release_collection, flush, create_database, drop_database"},
	{MetaDB, "the source database"},
	{MetaCollection, "the source collection (a flush may name several, comma-separated)"},
	{MetaCollectionID, "the source collection ID (IDs only grow: a recreated name gets a higher one)"},
	{MetaPartition, "the partition of an insert or delete"},
	{MetaChannel, "the Pulsar topic (short name) the message came from"},
	{MetaShard, "the virtual channel of a DML message"},
	{MetaTs, "the Milvus hybrid timestamp (physical milliseconds = ts >> 18)"},
	{MetaTime, "the physical part of `milvus_ts` as an RFC 3339 time"},
	{MetaPosition, "base64 of the Pulsar message ID"},
	{MetaRows, "number of rows (inserts, deletes)"},
	{MetaUpsert, "`true` on the Insert and the Delete that together form one source upsert"},
	{MetaMsgType, "the Milvus message type name (protobuf format only)"},
	{MetaConsistency, "create_collection: the source collection's consistency level"},
	{MetaSourceDropped, "`true` when the source no longer has the collection (read from history)"},
	{MetaProperties, "create_collection, alter_collection: the source collection's properties as a JSON object"},
	{MetaRenamedFrom, "rename_collection: the collection's previous `db.name` (`milvus_db` and `milvus_collection` carry the new one)"},
	{MetaAlias, "create_alias, drop_alias: the alias"},
	{MetaPartitions, "load_partitions, release_partitions: the partitions (comma-separated; Milvus partition names hold no comma)"},
	{MetaSnapshot, "`true` on what the initial snapshot copied from the source's current data (not read from its log)"},
}

// Meta is the metadata of one milvus_binlog message, as the input sets it and
// milvus_apply reads it back.
type Meta struct {
	Op               string
	DB               string
	Collections      []string // one, except for a flush
	CollectionID     int64
	Partition        string
	Channel          string
	Shard            string
	Ts               uint64
	Position         []byte
	Rows             int64 // inserts and deletes
	Upsert           bool
	MsgType          string // protobuf format only
	ConsistencyLevel string
	SourceDropped    bool
	Properties       map[string]string
	RenamedFrom      *CollectionRef // rename_collection
	Alias            string         // create_alias, drop_alias
	Partitions       []string       // load_partitions, release_partitions
	Snapshot         bool           // copied by the initial snapshot
}

// Collection returns the first collection named ("" for none).
func (m Meta) Collection() string {
	if len(m.Collections) == 0 {
		return ""
	}
	return m.Collections[0]
}

// PhysicalTime converts a Milvus hybrid timestamp (physical ms << 18 |
// logical counter) to wall-clock time.
func PhysicalTime(ts uint64) time.Time {
	return time.UnixMilli(int64(ts >> 18)).UTC()
}

// HybridTs is the hybrid timestamp of wall-clock time t (logical counter 0).
func HybridTs(t time.Time) uint64 {
	return uint64(t.UnixMilli()) << 18
}

// Set writes m onto msg.
func (m Meta) Set(msg *service.Message) {
	msg.MetaSetMut(MetaOp, m.Op)
	msg.MetaSetMut(MetaDB, m.DB)
	msg.MetaSetMut(MetaCollection, strings.Join(m.Collections, ","))
	if m.CollectionID != 0 {
		msg.MetaSetMut(MetaCollectionID, strconv.FormatInt(m.CollectionID, 10))
	}
	if m.Partition != "" {
		msg.MetaSetMut(MetaPartition, m.Partition)
	}
	msg.MetaSetMut(MetaChannel, m.Channel)
	if m.Shard != "" {
		msg.MetaSetMut(MetaShard, m.Shard)
	}
	msg.MetaSetMut(MetaTs, strconv.FormatUint(m.Ts, 10))
	msg.MetaSetMut(MetaTime, PhysicalTime(m.Ts).Format(time.RFC3339Nano))
	msg.MetaSetMut(MetaPosition, base64.StdEncoding.EncodeToString(m.Position))
	if IsRowOp(m.Op) {
		msg.MetaSetMut(MetaRows, strconv.FormatInt(m.Rows, 10))
	}
	if m.Upsert {
		msg.MetaSetMut(MetaUpsert, "true")
	}
	if m.MsgType != "" {
		msg.MetaSetMut(MetaMsgType, m.MsgType)
	}
	if m.SourceDropped {
		msg.MetaSetMut(MetaSourceDropped, "true")
	}
	if m.ConsistencyLevel != "" {
		msg.MetaSetMut(MetaConsistency, m.ConsistencyLevel)
	}
	if len(m.Properties) > 0 {
		if b, err := json.Marshal(m.Properties); err == nil {
			msg.MetaSetMut(MetaProperties, string(b))
		}
	}
	if m.RenamedFrom != nil {
		msg.MetaSetMut(MetaRenamedFrom, m.RenamedFrom.DB+"."+m.RenamedFrom.Name)
	}
	if m.Alias != "" {
		msg.MetaSetMut(MetaAlias, m.Alias)
	}
	if len(m.Partitions) > 0 {
		msg.MetaSetMut(MetaPartitions, strings.Join(m.Partitions, ","))
	}
	if m.Snapshot {
		msg.MetaSetMut(MetaSnapshot, "true")
	}
}

// ReadMeta reads the metadata of a milvus_binlog message. It fails when the
// message did not come from milvus_binlog or a value is malformed.
func ReadMeta(msg *service.Message) (Meta, error) {
	get := func(k string) string { v, _ := msg.MetaGet(k); return v }
	var m Meta
	var ok bool
	if m.Op, ok = msg.MetaGet(MetaOp); !ok {
		return Meta{}, fmt.Errorf("no %s metadata: not a message of the milvus_binlog input", MetaOp)
	}
	m.DB, m.Partition, m.Channel, m.Shard = get(MetaDB), get(MetaPartition), get(MetaChannel), get(MetaShard)
	m.MsgType, m.ConsistencyLevel = get(MetaMsgType), get(MetaConsistency)
	m.Upsert, m.SourceDropped = get(MetaUpsert) == "true", get(MetaSourceDropped) == "true"
	if s := get(MetaCollection); s != "" {
		m.Collections = strings.Split(s, ",")
	}
	var err error
	if s := get(MetaCollectionID); s != "" {
		if m.CollectionID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return Meta{}, fmt.Errorf("%s %q: %w", MetaCollectionID, s, err)
		}
	}
	if s := get(MetaTs); s != "" {
		if m.Ts, err = strconv.ParseUint(s, 10, 64); err != nil {
			return Meta{}, fmt.Errorf("%s %q: %w", MetaTs, s, err)
		}
	}
	if s := get(MetaRows); s != "" {
		if m.Rows, err = strconv.ParseInt(s, 10, 64); err != nil {
			return Meta{}, fmt.Errorf("%s %q: %w", MetaRows, s, err)
		}
	}
	if s := get(MetaPosition); s != "" {
		if m.Position, err = base64.StdEncoding.DecodeString(s); err != nil {
			return Meta{}, fmt.Errorf("%s: %w", MetaPosition, err)
		}
	}
	if s := get(MetaProperties); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Properties); err != nil {
			return Meta{}, fmt.Errorf("%s: %w", MetaProperties, err)
		}
	}
	if s := get(MetaRenamedFrom); s != "" {
		db, name, ok := strings.Cut(s, ".")
		if !ok || db == "" || name == "" {
			return Meta{}, fmt.Errorf("%s %q: want db.collection", MetaRenamedFrom, s)
		}
		m.RenamedFrom = &CollectionRef{DB: db, Name: name}
	}
	m.Alias, m.Snapshot = get(MetaAlias), get(MetaSnapshot) == "true"
	if s := get(MetaPartitions); s != "" {
		m.Partitions = strings.Split(s, ",")
	}
	return m, nil
}
