// Package repair replaces writes the WAL cannot be trusted with by the
// source's current rows for their keys: late writes (published behind newer
// ones after a Pulsar outage), writes in the resync window after a
// reconnect, and upserts whose Delete never reached the WAL.
package repair

import (
	"context"
	"fmt"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Late writes. Milvus 2.3 can publish a write after newer ones of its channel:
// when its Pulsar producer re-sends after an outage, a write whose call timed
// out lands behind later writes (seen on the stack: an upsert published 14 s
// after a later delete of the same keys). Milvus itself resolves this with
// timestamps (a delete removes only older rows); the target cannot, and
// applying the late write in WAL order would undo the newer one there. So a
// late Insert or Delete is replaced by what the source holds now for its
// keys: the rows found, as inserts per partition, and a delete of the keys
// found nowhere. The messages after it apply on top as usual, so the target
// converges to the source.

// late returns the events that replace a late Insert or Delete: the
// source's current rows for its keys, read once the source has applied
// everything up to guarantee. On any error it returns ev itself and the
// error (the caller logs it: the write is then applied as it stands).
func late(ctx context.Context, shapes *sourcemeta.Shapes, ev *wal.Event, guarantee uint64) ([]*wal.Event, error) {
	sh, err := shapes.Get(ctx, ev)
	if err != nil {
		return []*wal.Event{ev}, err
	}
	ints, strs, err := eventKeys(ev, sh.PK)
	if err != nil {
		return []*wal.Event{ev}, err
	}
	found := map[any]bool{}
	var out []*wal.Event
	for _, p := range sh.Parts {
		for _, expr := range wal.KeyExprs(sh.PK, ints, strs) {
			data, err := shapes.Source().Query(ctx, ev.DbName, ev.CollectionName, p, expr, sh.Fields, guarantee)
			if err != nil {
				shapes.Forget(ev.CollectionID)
				return []*wal.Event{ev}, fmt.Errorf("query partition %s: %w", p, err)
			}
			qi, qs, _ := wal.PKValues(data, sh.PK)
			if len(qi)+len(qs) == 0 {
				continue
			}
			for _, k := range qi {
				found[k] = true
			}
			for _, k := range qs {
				found[k] = true
			}
			out = append(out, derivedInsert(ev, p, data, len(qi)+len(qs)))
		}
	}
	var goneInts []int64
	var goneStrs []string
	for _, k := range ints {
		if !found[k] {
			goneInts = append(goneInts, k)
		}
	}
	for _, k := range strs {
		if !found[k] {
			goneStrs = append(goneStrs, k)
		}
	}
	if len(goneInts)+len(goneStrs) > 0 {
		out = append(out, derivedDelete(ev, goneInts, goneStrs))
	}
	return out, nil
}

// eventKeys are the primary keys an Insert or Delete names.
func eventKeys(ev *wal.Event, pkName string) ([]int64, []string, error) {
	switch ev.Op {
	case contract.OpInsert:
		var req msgpb.InsertRequest
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return nil, nil, fmt.Errorf("decode insert: %w", err)
		}
		ints, strs, ok := wal.PKValues(req.GetFieldsData(), pkName)
		if !ok {
			return nil, nil, fmt.Errorf("insert carries no primary key field %q", pkName)
		}
		return ints, strs, nil
	case contract.OpDelete:
		var req msgpb.DeleteRequest
		if err := proto.Unmarshal(ev.Payload, &req); err != nil {
			return nil, nil, fmt.Errorf("decode delete: %w", err)
		}
		ints, strs := wal.DeletePKs(&req)
		return ints, strs, nil
	}
	return nil, nil, fmt.Errorf("%s is not a row change", ev.Op)
}

// derivedInsert is an Insert of the source's current rows in one partition,
// at the late event's timestamp and position.
func derivedInsert(ev *wal.Event, partition string, data []*schemapb.FieldData, n int) *wal.Event {
	d := *ev
	d.Op, d.MsgType, d.BaseTs, d.PartitionName, d.Rows, d.Upsert, d.Derived = contract.OpInsert, commonpb.MsgType_Insert, ev.Ts, partition, int64(n), false, true
	d.Payload = nil // an event without payload fails loudly where it is rendered
	if ins, err := wal.InsertEvent(ev.DbName, ev.CollectionName, ev.CollectionID, partition, ev.Ts, data, n); err == nil {
		d.Payload = ins.Payload
	}
	return &d
}

// derivedDelete deletes keys the source no longer has, in every partition.
func derivedDelete(ev *wal.Event, ints []int64, strs []string) *wal.Event {
	ids := &schemapb.IDs{}
	n := len(ints)
	if len(strs) > 0 {
		ids.IdField, n = &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: strs}}, len(strs)
	} else {
		ids.IdField = &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: ints}}
	}
	ts := make([]uint64, n)
	for i := range ts {
		ts[i] = ev.Ts
	}
	req := &msgpb.DeleteRequest{
		Base:   &commonpb.MsgBase{MsgType: commonpb.MsgType_Delete, Timestamp: ev.Ts},
		DbName: ev.DbName, CollectionName: ev.CollectionName, CollectionID: ev.CollectionID,
		PartitionID: -1, PrimaryKeys: ids, NumRows: int64(n), Timestamps: ts,
	}
	d := *ev
	d.Op, d.MsgType, d.BaseTs, d.PartitionName, d.PartitionID, d.Rows, d.Upsert, d.Derived = contract.OpDelete, commonpb.MsgType_Delete, ev.Ts, "", -1, int64(n), false, true
	d.Payload, _ = proto.Marshal(req)
	return &d
}
