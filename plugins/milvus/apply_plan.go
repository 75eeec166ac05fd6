package milvus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// maxStepBytes caps the payload merged into one upsert call (the target's
// gRPC limit is 64 MiB by default).
const maxStepBytes = 8 << 20

// applyStep is one call (or one small sequence of calls) on the target.
type applyStep struct {
	op         string
	src        collectionRef // source names, for messages
	target     collectionRef
	collID     int64
	partition  string
	inserts    []*msgpb.InsertRequest
	deletes    []*msgpb.DeleteRequest
	rows       int64
	bytes      int
	sourceGone bool              // the source no longer has the collection
	payload    []byte            // DDL: the original request
	meta       map[string]string // DDL: metadata of the message
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
		op, ok := m.MetaGetMut(metaOp)
		if !ok {
			return nil, permanentf("message %d has no %s metadata: milvus_apply takes messages of the milvus_binlog input", i, metaOp)
		}
		if mt, _ := m.MetaGetMut(metaMsgType); mt == nil {
			return nil, permanentf("message %d has no %s metadata: milvus_binlog must use format: protobuf for milvus_apply", i, metaMsgType)
		}
		payload, err := m.AsBytes()
		if err != nil {
			return nil, permanentf("message %d: %v", i, err)
		}
		st := &applyStep{op: op.(string), bytes: len(payload)}
		st.src = collectionRef{DB: metaString(m, metaDB), Name: metaString(m, metaCollection)}
		st.target = conf.mapName(st.src.DB, st.src.Name)
		st.collID, _ = strconv.ParseInt(metaString(m, metaCollectionID), 10, 64)
		st.partition = metaString(m, metaPartition)
		st.sourceGone = metaString(m, metaSourceDropped) == "true"
		switch st.op {
		case OpInsert:
			var req msgpb.InsertRequest
			if err := proto.Unmarshal(payload, &req); err != nil {
				return nil, permanentf("decode insert into %s.%s: %v", st.src.DB, st.src.Name, err)
			}
			st.inserts, st.rows = []*msgpb.InsertRequest{&req}, int64(req.GetNumRows())
			if prev := last(steps); prev != nil && prev.op == OpInsert && prev.sameRows(st) && prev.bytes+st.bytes <= maxStepBytes {
				prev.inserts, prev.rows, prev.bytes = append(prev.inserts, &req), prev.rows+st.rows, prev.bytes+st.bytes
				continue
			}
		case OpDelete:
			if metaString(m, metaUpsert) == "true" {
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
			if prev := last(steps); prev != nil && prev.op == OpDelete && prev.sameRows(st) {
				prev.deletes, prev.rows = append(prev.deletes, &req), prev.rows+st.rows
				continue
			}
		default:
			st.payload = payload
			st.meta = map[string]string{}
			_ = m.MetaWalk(func(k, v string) error {
				st.meta[k] = v
				return nil
			})
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

func metaString(m *service.Message, key string) string {
	v, _ := m.MetaGet(key)
	return v
}

// collectionNamesMeta splits the comma-joined milvus_collection of a flush.
func collectionNamesMeta(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// propertiesMeta decodes milvus_collection_properties.
func propertiesMeta(s string) map[string]string {
	out := map[string]string{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}
