package wal

import (
	"encoding/json"
	"fmt"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// JSON renders an event as JSON objects: one per inserted row, one per
// deleted key, one per DDL operation (the input's `format: json`).
func JSON(ev *Event) ([][]byte, error) {
	head := func() map[string]any {
		m := map[string]any{"op": ev.Op, "db": ev.DbName, "collection": ev.CollectionName, "ts": ev.Ts}
		if len(ev.CollectionNames) > 0 {
			m["collections"] = ev.CollectionNames
		}
		if ev.PartitionName != "" {
			m["partition"] = ev.PartitionName
		}
		if ev.Upsert {
			m["upsert"] = true
		}
		return m
	}
	var objs []map[string]any
	switch ev.Op {
	case contract.OpInsert:
		var req msgpb.InsertRequest
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return nil, fmt.Errorf("decode insert at %s: %w", ev.Channel, err)
		}
		rows, err := RowsFromFields(req.GetFieldsData(), int(req.GetNumRows()))
		if err != nil {
			return nil, fmt.Errorf("insert into %s.%s: %w", ev.DbName, ev.CollectionName, err)
		}
		for _, r := range rows {
			o := head()
			o["row"] = r
			objs = append(objs, o)
		}
	case contract.OpDelete:
		var req msgpb.DeleteRequest
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return nil, fmt.Errorf("decode delete at %s: %w", ev.Channel, err)
		}
		for _, k := range deleteKeys(&req) {
			o := head()
			o["pk"] = k
			objs = append(objs, o)
		}
	default:
		o := head()
		if err := addDDLDetails(ev, o); err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	out := make([][]byte, 0, len(objs))
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s on %s.%s as JSON: %w", ev.Op, ev.DbName, ev.CollectionName, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// deleteKeys returns the primary keys of a delete (int64 or string).
func deleteKeys(req *msgpb.DeleteRequest) []any {
	ints, strs := DeletePKs(req)
	var keys []any
	for _, k := range ints {
		keys = append(keys, k)
	}
	for _, k := range strs {
		keys = append(keys, k)
	}
	return keys
}

func addDDLDetails(ev *Event, o map[string]any) error {
	switch ev.Op {
	case contract.OpAlterCollection:
		o["properties"] = ev.Properties
	case contract.OpRenameCollection:
		if ev.RenamedFrom != nil {
			o["renamed_from"] = ev.RenamedFrom
		}
	case contract.OpCreateAlias, contract.OpDropAlias:
		o["alias"] = ev.Alias
	case contract.OpLoadPartitions, contract.OpReleasePartitions:
		o["partitions"] = ev.Partitions
	case contract.OpCreateCollection:
		var req msgpb.CreateCollectionRequest
		var schema schemapb.CollectionSchema
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return fmt.Errorf("decode create_collection: %w", err)
		}
		if err := proto.Unmarshal(req.GetSchema(), &schema); err != nil {
			return fmt.Errorf("decode schema of create_collection: %w", err)
		}
		o["schema"] = schemaJSON(&schema)
		o["shards"] = len(req.GetVirtualChannelNames())
	case contract.OpCreateIndex:
		var req milvuspb.CreateIndexRequest
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return fmt.Errorf("decode create_index: %w", err)
		}
		params := map[string]string{}
		for _, kv := range req.GetExtraParams() {
			params[kv.GetKey()] = kv.GetValue()
		}
		o["field"], o["index_name"], o["params"] = req.GetFieldName(), req.GetIndexName(), params
	case contract.OpDropIndex:
		o["field"], o["index_name"] = ev.FieldName, ev.IndexName
	}
	return nil
}

func schemaJSON(s *schemapb.CollectionSchema) map[string]any {
	fields := make([]map[string]any, 0, len(s.GetFields()))
	for _, f := range s.GetFields() {
		params := map[string]string{}
		for _, kv := range f.GetTypeParams() {
			params[kv.GetKey()] = kv.GetValue()
		}
		fd := map[string]any{"name": f.GetName(), "id": f.GetFieldID(), "type": f.GetDataType().String()}
		if f.GetIsPrimaryKey() {
			fd["primary_key"] = true
		}
		if f.GetAutoID() {
			fd["auto_id"] = true
		}
		if f.GetIsDynamic() {
			fd["dynamic"] = true
		}
		if f.GetIsPartitionKey() {
			fd["partition_key"] = true
		}
		if f.GetElementType() != schemapb.DataType_None {
			fd["element_type"] = f.GetElementType().String()
		}
		if len(params) > 0 {
			fd["params"] = params
		}
		fields = append(fields, fd)
	}
	return map[string]any{"name": s.GetName(), "description": s.GetDescription(), "dynamic_field": s.GetEnableDynamicField(), "fields": fields}
}
