package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// sourceTopics are the source's topics (Milvus defaults: cluster prefix
// by-dev, 16 DML channels, tenant/namespace public/default).
var sourceTopics = contract.DefaultTopics()

// walObserver reads the source's DML topics from "now" during the lag phase
// and notes when each time tick and each insert of the lag collection
// arrived. It sees the WAL as the pipeline does, so it tells how long the
// source's time ticks alone hold a row back: the merge releases a row only
// when every ticking channel has shown a tick at or past its timestamp.
type walObserver struct {
	coll   string
	client pulsar.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	result *walObservation

	mu      sync.Mutex
	ticks   map[int][]tickSeen
	inserts map[int64]insertSeen // by primary key
	foreign foreignTraffic
	errs    []error
}

// foreignTraffic counts the DML messages of other collections: the
// pipeline reads and filters them too, so they cost it memory and time.
type foreignTraffic struct {
	messages int
	bytes    int64
}

type tickSeen struct {
	at time.Time
	ts uint64
}

type insertSeen struct {
	at      time.Time
	ts      uint64
	channel int
}

func startObserver(ctx context.Context, pulsarURL, coll string) (*walObserver, error) {
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL: pulsarURL, ConnectionTimeout: 10 * time.Second, OperationTimeout: 30 * time.Second,
		Logger: plog.DefaultNopLogger(),
	})
	if err != nil {
		return nil, fmt.Errorf("observer: pulsar client for %s: %w", pulsarURL, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	w := &walObserver{coll: coll, client: c, cancel: cancel, ticks: map[int][]tickSeen{}, inserts: map[int64]insertSeen{}}
	for ch := 0; ch < sourceTopics.DMLChannels; ch++ {
		topic := sourceTopics.Topic(sourceTopics.DML(ch))
		r, err := c.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID(), ReceiverQueueSize: 1000})
		if err != nil {
			w.stop()
			return nil, fmt.Errorf("observer: reader on %s: %w", topic, err)
		}
		w.wg.Add(1)
		go w.read(rctx, ch, r)
	}
	return w, nil
}

func (w *walObserver) read(ctx context.Context, ch int, r pulsar.Reader) {
	defer w.wg.Done()
	defer r.Close()
	for {
		msg, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.fail(fmt.Errorf("observer: channel %d: %w", ch, err))
			}
			return
		}
		at := time.Now()
		if err := w.note(ch, at, msg.Payload()); err != nil {
			w.fail(err)
		}
	}
}

// note records a time tick or an insert of the lag collection.
func (w *walObserver) note(ch int, at time.Time, payload []byte) error {
	var h commonpb.MsgHeader
	if err := proto.Unmarshal(payload, &h); err != nil {
		return fmt.Errorf("observer: channel %d: header: %w", ch, err)
	}
	switch h.GetBase().GetMsgType() {
	case commonpb.MsgType_TimeTick:
		w.mu.Lock()
		w.ticks[ch] = append(w.ticks[ch], tickSeen{at: at, ts: h.GetBase().GetTimestamp()})
		w.mu.Unlock()
	case commonpb.MsgType_Delete:
		w.mu.Lock()
		w.foreign.messages++ // the lag phase deletes nothing
		w.foreign.bytes += int64(len(payload))
		w.mu.Unlock()
	case commonpb.MsgType_Insert:
		var ins msgpb.InsertRequest
		if err := proto.Unmarshal(payload, &ins); err != nil {
			return fmt.Errorf("observer: channel %d: insert: %w", ch, err)
		}
		if ins.GetCollectionName() != w.coll {
			w.mu.Lock()
			w.foreign.messages++
			w.foreign.bytes += int64(len(payload))
			w.mu.Unlock()
			return nil
		}
		var ts uint64
		for _, t := range ins.GetTimestamps() {
			ts = max(ts, t)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, f := range ins.GetFieldsData() {
			if f.GetFieldName() != "id" {
				continue
			}
			for _, id := range f.GetScalars().GetLongData().GetData() {
				w.inserts[id] = insertSeen{at: at, ts: ts, channel: ch}
			}
		}
	}
	return nil
}

func (w *walObserver) fail(err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

// stop ends the readers and returns what was seen; later calls return the same.
func (w *walObserver) stop() *walObservation {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
		w.client.Close()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.result = &walObservation{ticks: w.ticks, inserts: w.inserts, foreign: w.foreign, errs: w.errs}
	})
	return w.result
}
