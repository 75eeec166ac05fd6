package e2e

import (
	"context"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// walReader reads the source's WAL topics raw, from the moment it was opened.
type walReader struct {
	client  pulsar.Client
	readers []pulsar.Reader
}

func openWAL(t *testing.T, url string, topics []string) *walReader {
	t.Helper()
	c, err := pulsar.NewClient(pulsar.ClientOptions{URL: url, OperationTimeout: 30 * time.Second, Logger: plog.DefaultNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	w := &walReader{client: c}
	for _, topic := range topics {
		r, err := c.CreateReader(pulsar.ReaderOptions{Topic: contract.DefaultTopics().Topic(topic), StartMessageID: pulsar.LatestMessageID()})
		if err != nil {
			t.Fatalf("reader on %s: %v", topic, err)
		}
		w.readers = append(w.readers, r)
	}
	t.Cleanup(func() {
		for _, r := range w.readers {
			r.Close()
		}
		c.Close()
	})
	return w
}

// drain reads every topic until stop returns true or the deadline passes,
// calling fn for each message (from several goroutines, serialized).
func (w *walReader) drain(ctx context.Context, fn func(topic string, payload []byte)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range w.readers {
		wg.Add(1)
		go func(r pulsar.Reader) {
			defer wg.Done()
			for {
				msg, err := r.Next(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				fn(r.Topic(), msg.Payload())
				mu.Unlock()
			}
		}(r)
	}
	wg.Wait()
}

func dmlTopics() []string { return contract.DefaultTopics().DMLNames() }

// TestStackWALCarriesInsertsAndDDL: rows written with milvus-sdk-go show up in
// Pulsar as InsertRequests of that collection, and the replicate channel
// carries the Flush, CreateIndex and LoadCollection that followed.
func TestStackWALCarriesInsertsAndDDL(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	wal := openWAL(t, env.PulsarURL, append(dmlTopics(), contract.DefaultTopics().ReplicateName()))

	coll := harness.UniqueName("stack_wal")
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 128), 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	desc, err := src.DescribeCollection(ctx, coll)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	if err := workload.InsertRows(ctx, src, coll, 0, 1000, 200, 128, rng); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		t.Fatal(err)
	}

	var rows uint64
	keys := map[int64]bool{}
	seenDDL := map[commonpb.MsgType]bool{}
	dctx, dcancel := context.WithTimeout(ctx, 90*time.Second)
	defer dcancel()
	wal.drain(dctx, func(topic string, payload []byte) {
		var hdr commonpb.MsgHeader
		if err := proto.Unmarshal(payload, &hdr); err != nil {
			t.Errorf("undecodable message on %s: %v", topic, err)
			return
		}
		switch hdr.GetBase().GetMsgType() {
		case commonpb.MsgType_Insert:
			var ins msgpb.InsertRequest
			if err := proto.Unmarshal(payload, &ins); err != nil {
				t.Errorf("insert on %s: %v", topic, err)
				return
			}
			if ins.GetCollectionID() != desc.ID {
				return
			}
			if ins.GetCollectionName() != coll {
				t.Errorf("insert names collection %q, want %q", ins.GetCollectionName(), coll)
			}
			rows += ins.GetNumRows()
			for _, f := range ins.GetFieldsData() {
				if f.GetFieldName() == "id" {
					for _, k := range f.GetScalars().GetLongData().GetData() {
						keys[k] = true
					}
				}
				if f.GetFieldName() == "vec" && f.GetVectors().GetDim() != 128 {
					t.Errorf("vector dim %d", f.GetVectors().GetDim())
				}
			}
		case commonpb.MsgType_Flush:
			var r milvuspb.FlushRequest
			if proto.Unmarshal(payload, &r) == nil && contains(r.GetCollectionNames(), coll) {
				seenDDL[commonpb.MsgType_Flush] = true
			}
		case commonpb.MsgType_CreateIndex:
			var r milvuspb.CreateIndexRequest
			if proto.Unmarshal(payload, &r) == nil && r.GetCollectionName() == coll {
				seenDDL[commonpb.MsgType_CreateIndex] = r.GetIndexName() == "vec_ivf" && r.GetFieldName() == "vec" && r.GetDbName() == "default"
			}
		case commonpb.MsgType_LoadCollection:
			var r milvuspb.LoadCollectionRequest
			if proto.Unmarshal(payload, &r) == nil && r.GetCollectionName() == coll {
				seenDDL[commonpb.MsgType_LoadCollection] = true
			}
		}
		if rows >= 1000 && len(seenDDL) == 3 {
			dcancel()
		}
	})
	if rows != 1000 || len(keys) != 1000 {
		t.Fatalf("WAL carried %d inserted rows with %d distinct keys, want 1000 and 1000", rows, len(keys))
	}
	for _, mt := range []commonpb.MsgType{commonpb.MsgType_Flush, commonpb.MsgType_CreateIndex, commonpb.MsgType_LoadCollection} {
		if !seenDDL[mt] {
			t.Errorf("replicate channel did not carry %s for %s (seen: %v)", mt, coll, seenDDL)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
