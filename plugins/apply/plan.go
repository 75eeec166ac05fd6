package apply

import (
	"fmt"
	"strings"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// MaxUpsertBytes caps the payload merged into one upsert call (the target's
// gRPC limit is 64 MiB by default); bench/apply sizes its direct baseline by it.
const MaxUpsertBytes = 8 << 20

const maxStepBytes = MaxUpsertBytes

// applyStep is one call (or one small sequence of calls) on the target.
type applyStep struct {
	op         string
	src        contract.CollectionRef // source names, for messages
	target     contract.CollectionRef
	collID     int64
	partition  string
	inserts    []*msgpb.InsertRequest
	deletes    []*msgpb.DeleteRequest
	rows       int64
	bytes      int
	sourceGone bool          // the source no longer has the collection
	payload    []byte        // DDL: the original request
	meta       contract.Meta // DDL: metadata of the message
}

func (s *applyStep) String() string {
	if s.src.Name == "" {
		return fmt.Sprintf("%s (database %s)", s.op, s.src.DB)
	}
	return fmt.Sprintf("%s on %s.%s", s.op, s.src.DB, s.src.Name)
}

// planBatch turns a batch of milvus_binlog messages into steps, merging
// consecutive row operations of one collection and partition.
func planBatch(batch service.MessageBatch, conf *applyConfig) ([]*applyStep, error) {
	var steps []*applyStep
	for i, m := range batch {
		meta, err := contract.ReadMeta(m)
		if err != nil {
			return nil, permanentf("message %d: %v", i, err)
		}
		if meta.MsgType == "" {
			return nil, permanentf("message %d has no %s metadata: milvus_binlog must use format: protobuf for milvus_apply", i, contract.MetaMsgType)
		}
		payload, err := m.AsBytes()
		if err != nil {
			return nil, permanentf("message %d: %v", i, err)
		}
		st := &applyStep{op: meta.Op, bytes: len(payload)}
		// A flush names several collections: the step's name lists them all.
		st.src = contract.CollectionRef{DB: meta.DB, Name: strings.Join(meta.Collections, ",")}
		st.target = conf.mapName(st.src.DB, st.src.Name)
		st.collID, st.partition, st.sourceGone = meta.CollectionID, meta.Partition, meta.SourceDropped
		switch st.op {
		case contract.OpInsert:
			var req msgpb.InsertRequest
			if err := proto.Unmarshal(payload, &req); err != nil {
				return nil, permanentf("decode insert into %s.%s: %v", st.src.DB, st.src.Name, err)
			}
			st.inserts, st.rows = []*msgpb.InsertRequest{&req}, int64(req.GetNumRows())
			if prev := last(steps); prev != nil && prev.op == contract.OpInsert && prev.sameRows(st) && prev.bytes+st.bytes <= maxStepBytes {
				prev.inserts, prev.rows, prev.bytes = append(prev.inserts, &req), prev.rows+st.rows, prev.bytes+st.bytes
				continue
			}
		case contract.OpDelete:
			if meta.Upsert {
				continue // the insert of the same upsert, applied as an upsert, replaces these rows
			}
			var req msgpb.DeleteRequest
			if err := proto.Unmarshal(payload, &req); err != nil {
				return nil, permanentf("decode delete from %s.%s: %v", st.src.DB, st.src.Name, err)
			}
			st.deletes, st.rows = []*msgpb.DeleteRequest{&req}, int64(req.GetNumRows())
			if req.GetPartitionID() == -1 || st.partition == "" {
				st.partition = "" // every partition
			}
			if prev := last(steps); prev != nil && prev.op == contract.OpDelete && prev.sameRows(st) {
				prev.deletes, prev.rows = append(prev.deletes, &req), prev.rows+st.rows
				continue
			}
		default:
			st.payload, st.meta = payload, meta
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func (s *applyStep) sameRows(o *applyStep) bool {
	return s.target == o.target && s.collID == o.collID && s.partition == o.partition
}

func last(steps []*applyStep) *applyStep {
	if len(steps) == 0 {
		return nil
	}
	return steps[len(steps)-1]
}
