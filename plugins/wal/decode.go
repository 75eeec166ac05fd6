package wal

import (
	"errors"
	"fmt"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// envelopeFields names the top-level protobuf field numbers of the envelope
// values for one message type (0 = the type has no such field).
type envelopeFields struct {
	db, coll, part, collID, partID, shard, ts, rows, index, field protowire.Number
	collRepeated                                                  bool
}

// Field numbers from milvus-proto (msgpb for DML-channel messages, milvuspb for
// the requests the proxy copies to the replicate channel).
var envelopeByMsgType = map[commonpb.MsgType]envelopeFields{
	commonpb.MsgType_Insert:            {shard: 2, db: 3, coll: 4, part: 5, collID: 7, partID: 8, ts: 10, rows: 14},
	commonpb.MsgType_Delete:            {shard: 2, db: 3, coll: 4, part: 5, collID: 7, partID: 8, ts: 10, rows: 11},
	commonpb.MsgType_CreateCollection:  {db: 2, coll: 3, part: 4, collID: 6, partID: 7},
	commonpb.MsgType_DropCollection:    {db: 2, coll: 3, collID: 5},
	commonpb.MsgType_CreatePartition:   {db: 2, coll: 3, part: 4, collID: 6, partID: 7},
	commonpb.MsgType_DropPartition:     {db: 2, coll: 3, part: 4, collID: 6, partID: 7},
	commonpb.MsgType_LoadCollection:    {db: 2, coll: 3},
	commonpb.MsgType_ReleaseCollection: {db: 2, coll: 3},
	commonpb.MsgType_CreateIndex:       {db: 2, coll: 3, field: 4, index: 6},
	commonpb.MsgType_DropIndex:         {db: 2, coll: 3, field: 4, index: 5},
	commonpb.MsgType_Flush:             {db: 2, coll: 3, collRepeated: true},
	commonpb.MsgType_CreateDatabase:    {db: 2},
	commonpb.MsgType_DropDatabase:      {db: 2},
	commonpb.MsgType_TimeTick:          {},
}

// ErrUnsupportedMsgType is returned for message types this decoder does not
// know. The input never skips such a message: it stops before it and says so.
var ErrUnsupportedMsgType = errors.New("unsupported message type")

// Decode decodes the header and envelope values of one WAL message
// without touching the row payload. It never panics on malformed input.
func Decode(payload []byte) (*Event, error) {
	base, err := readBase(payload)
	if err != nil {
		return nil, err
	}
	op, ok := opByMsgType[base.GetMsgType()]
	if !ok {
		return nil, fmt.Errorf("%w %v (%d)", ErrUnsupportedMsgType, base.GetMsgType(), int32(base.GetMsgType()))
	}
	ev := &Event{
		Op:          op,
		MsgType:     base.GetMsgType(),
		BaseTs:      base.GetTimestamp(),
		Ts:          base.GetTimestamp(),
		IsReplicate: base.GetReplicateInfo().GetIsReplicate(),
		Payload:     payload,
		PartitionID: -1,
	}
	if op == contract.OpTimeTick {
		return ev, nil
	}
	if err := scanEnvelope(payload, envelopeByMsgType[base.GetMsgType()], ev); err != nil {
		return nil, fmt.Errorf("decode %s envelope: %w", op, err)
	}
	return ev, nil
}

// readBase finds field 1 (MsgBase) of any Milvus message and decodes it.
func readBase(b []byte) (*commonpb.MsgBase, error) {
	if len(b) == 0 {
		return nil, errors.New("empty message")
	}
	var baseBytes []byte
	found := false
	err := walkFields(b, func(num protowire.Number, typ protowire.Type, raw []byte, v uint64) error {
		if num == 1 && typ == protowire.BytesType {
			baseBytes, found = raw, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("message has no MsgBase header")
	}
	base := &commonpb.MsgBase{}
	if err := proto.Unmarshal(baseBytes, base); err != nil {
		return nil, fmt.Errorf("decode MsgBase: %w", err)
	}
	return base, nil
}

func scanEnvelope(b []byte, f envelopeFields, ev *Event) error {
	var maxTs uint64
	tsSeen := false
	noteTs := func(t uint64) {
		if !tsSeen || t > maxTs {
			maxTs = t
		}
		tsSeen = true
	}
	err := walkFields(b, func(num protowire.Number, typ protowire.Type, raw []byte, v uint64) error {
		if num == 0 || num == 1 {
			return nil
		}
		switch num {
		case f.db:
			ev.DbName = string(raw)
		case f.coll:
			if f.collRepeated {
				ev.CollectionNames = append(ev.CollectionNames, string(raw))
			} else {
				ev.CollectionName = string(raw)
			}
		case f.part:
			ev.PartitionName = string(raw)
		case f.collID:
			ev.CollectionID = int64(v)
		case f.partID:
			ev.PartitionID = int64(v)
		case f.shard:
			ev.ShardName = string(raw)
		case f.index:
			ev.IndexName = string(raw)
		case f.field:
			ev.FieldName = string(raw)
		case f.rows:
			ev.Rows = int64(v)
		case f.ts:
			if typ == protowire.VarintType {
				noteTs(v)
				return nil
			}
			// Packed repeated uint64.
			for len(raw) > 0 {
				t, n := protowire.ConsumeVarint(raw)
				if n < 0 {
					return fmt.Errorf("timestamps: %w", protowire.ParseError(n))
				}
				noteTs(t)
				raw = raw[n:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if tsSeen {
		// All rows of one request share one timestamp; Milvus uses the
		// maximum as the message's end timestamp.
		ev.Ts = maxTs
	}
	return nil
}

// walkFields calls fn for each top-level field: raw holds the bytes of
// length-delimited fields, v the value of varint and fixed fields.
func walkFields(b []byte, fn func(num protowire.Number, typ protowire.Type, raw []byte, v uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var raw []byte
		var v uint64
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			raw, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, raw, v); err != nil {
			return err
		}
	}
	return nil
}
