package binlog

import (
	"context"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"strings"
	"testing"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// scriptedChannel hands out its messages, then blocks until ctx ends.
type scriptedChannel struct{ msgs []logreader.Message }

func (s *scriptedChannel) Start() []byte { return []byte{0} }
func (s *scriptedChannel) Empty() bool   { return false }
func (s *scriptedChannel) Close()        {}
func (s *scriptedChannel) Next(ctx context.Context) (logreader.Message, error) {
	if len(s.msgs) == 0 {
		<-ctx.Done()
		return logreader.Message{}, ctx.Err()
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

// TestUnknownMessageTypeStopsTheReader: a WAL message this reader cannot
// decode (here an AlterCollection, which 2.3.5 does not log) is neither
// replicated nor skipped: the reader stops with a fatal error naming it, and
// the merge's position never passes it.
func TestUnknownMessageTypeStopsTheReader(t *testing.T) {
	payload, err := proto.Marshal(&milvuspb.AlterCollectionRequest{
		Base:           &commonpb.MsgBase{MsgType: commonpb.MsgType_AlterCollection, Timestamp: 100},
		CollectionName: "c1",
	})
	if err != nil {
		t.Fatal(err)
	}
	merge := order.New([]string{"dml_0"}, "", time.Second, 16, 1<<20)
	merge.SetStart(0, []byte{0})
	cr := &channelReader{idx: 0, name: "dml_0", merge: merge, log: service.MockResources().Logger(),
		ch: &scriptedChannel{msgs: []logreader.Message{{Kind: logreader.Data, Position: []byte{7}, Payload: payload}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = cr.run(ctx)
	if !logreader.IsFatal(err) || !strings.Contains(err.Error(), "AlterCollection") || !strings.Contains(err.Error(), "not skipped") {
		t.Fatalf("run: %v, want a fatal error naming AlterCollection", err)
	}
	if pos := merge.Positions()["dml_0"]; string(pos) != "\x00" {
		t.Fatalf("the merge's position moved to %x past the undecodable message", pos)
	}
}

// TestUnrenderableEventStopsTheInput: with format json, an event that cannot
// be rendered stops the input for good; it and the events taken with it are
// not handed out (so never acknowledged), and ReadBatch says so.
func TestUnrenderableEventStopsTheInput(t *testing.T) {
	res := service.MockResources(service.MockResourcesOptAddCache("store"))
	merge := order.New([]string{"dml_0"}, "", time.Second, 16, 1<<20)
	merge.SetStart(0, []byte{0})
	good := &wal.Event{Op: contract.OpDropCollection, DbName: "default", CollectionName: "ok", CollectionID: 1, Ts: 5, Channel: "dml_0", Position: []byte{1}}
	bad := &wal.Event{Op: contract.OpCreateCollection, DbName: "default", CollectionName: "c1", CollectionID: 2, Ts: 6,
		Channel: "dml_0", Position: []byte{2}, Payload: []byte{0x42, 0xff, 0xff}}
	merge.PushEvent(0, good)
	merge.PushEvent(0, bad)
	merge.PushTick(0, 10, []byte{3})
	in := &binlogInput{res: res, log: res.Logger(), conf: &binlogConfig{format: formatJSON, idleAfter: time.Second,
		batching: service.BatchPolicy{}}}
	acks := checkpoint.New(checkpoint.Destination{Res: res}, 100, nil, nil)
	rctx, rcancel := context.WithCancel(context.Background())
	r := &run{
		in:     in,
		src:    opened{log: nopLog{}, conn: nopCloser{}},
		acks:   acks,
		phases: snapshot.NewPhases(acks.UpdateSnapshot, acks.Snapshot, res.Logger()),
		stream: &stream{merge: merge, errs: make(chan error, 1)},
		out:    make(chan delivery),
		life:   lifecycle{ctx: rctx, cancel: rcancel},
	}
	in.run = r
	r.goStart(r.produce)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	batch, _, err := in.ReadBatch(ctx)
	if len(batch) != 0 || err != service.ErrNotConnected {
		t.Fatalf("ReadBatch: %d messages, %v; want none and ErrNotConnected", len(batch), err)
	}
	if !logreader.IsFatal(in.fatalErr) || !strings.Contains(in.fatalErr.Error(), "create_collection of collection default.c1") {
		t.Fatalf("fatal error %v, want one naming the create_collection of default.c1", in.fatalErr)
	}
}

type nopLog struct{}

func (nopLog) Open(context.Context, logreader.OpenOptions) (logreader.Channel, error) {
	return nil, nil
}
func (nopLog) Positions() logreader.Positions { return logreader.PulsarPositions{} }
func (nopLog) Newest(string) ([]byte, error)  { return nil, nil }
func (nopLog) Closing()                       {}
func (nopLog) Close()                         {}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
