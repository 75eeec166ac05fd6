package wal

import (
	"fmt"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// InsertEvent builds an insert of n rows (columns data, as a query returns
// them) into partition of collection db.coll (id), stamped ts, as the WAL
// would carry it: for rows read from the source rather than from its log.
func InsertEvent(db, coll string, id int64, partition string, ts uint64, data []*schemapb.FieldData, n int) (*Event, error) {
	tss := make([]uint64, n)
	for i := range tss {
		tss[i] = ts
	}
	req := &msgpb.InsertRequest{
		Base:   &commonpb.MsgBase{MsgType: commonpb.MsgType_Insert, Timestamp: ts},
		DbName: db, CollectionName: coll, PartitionName: partition,
		CollectionID: id, FieldsData: data, NumRows: uint64(n), Timestamps: tss,
		Version: msgpb.InsertDataVersion_ColumnBased,
	}
	b, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %d rows of %s.%s: %w", n, db, coll, err)
	}
	return &Event{Op: contract.OpInsert, MsgType: commonpb.MsgType_Insert, Ts: ts, BaseTs: ts, DbName: db, CollectionName: coll,
		CollectionID: id, PartitionName: partition, Rows: int64(n), Payload: b}, nil
}
