package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func pos(entry int64) []byte { return pulsar.NewMessageID(7, entry, -1, -1).Serialize() }

func TestAckTrackerOutOfOrder(t *testing.T) {
	ctx := context.Background()
	tr := newAckTracker(100)
	ch := "c"
	batches := make([]*trackedBatch, 3)
	for i := range batches {
		e := int64(10 * (i + 1))
		b, err := tr.add(ctx, 1, map[string][]byte{ch: pos(e)}, map[string][][]byte{ch: {pos(e)}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		batches[i] = b
	}
	resume, ahead := tr.ack(batches[2])
	if resume != nil || len(ahead[ch]) != 1 || string(ahead[ch][0]) != string(pos(30)) {
		t.Fatalf("ack of the 3rd: resume %v ahead %v", resume, ahead)
	}
	resume, ahead = tr.ack(batches[0])
	if string(resume[ch]) != string(pos(10)) || len(ahead[ch]) != 1 {
		t.Fatalf("ack of the 1st: resume %v ahead %v", resume, ahead)
	}
	resume, ahead = tr.ack(batches[1])
	if string(resume[ch]) != string(pos(30)) || ahead != nil {
		t.Fatalf("ack of the 2nd: resume %v ahead %v (want the 3rd's position, nothing ahead)", resume, ahead)
	}
}

func TestAckTrackerLimit(t *testing.T) {
	tr := newAckTracker(2)
	first, err := tr.add(context.Background(), 2, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := tr.add(short, 1, nil, nil, 0); err == nil {
		t.Fatal("a third message passed a limit of 2")
	}
	done := make(chan error, 1)
	go func() {
		_, err := tr.add(context.Background(), 1, nil, nil, 0)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	tr.ack(first)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("an acknowledgement did not free the limit")
	}
	// A batch larger than the limit passes when nothing else is in flight.
	tr2 := newAckTracker(2)
	if _, err := tr2.add(context.Background(), 5, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointerSkipsAckedAhead: a run acknowledges batches 1 and 3 but not
// 2; the checkpoint resumes after 1 and lists 3, and a second run that passes
// 3 stops listing it.
func TestCheckpointerSkipsAckedAhead(t *testing.T) {
	ctx := context.Background()
	res := service.MockResources(service.MockResourcesOptAddCache("c"))
	ch := "dml_0"
	c := New(Destination{Res: res, Cache: "c", Key: "k"}, 100, nil, logreader.PulsarPositions{})
	if st, err := c.Load(ctx); err != nil || st != nil {
		t.Fatalf("empty cache: %v %v", st, err)
	}
	c.SetBase(map[string][]byte{ch: []byte(contract.EarliestPosition), "repl": []byte(contract.EarliestPosition)})
	var acks []func(context.Context, error) error
	for _, e := range []int64{10, 20, 30} {
		ack, err := c.Track(ctx, map[string][]byte{ch: pos(e), "repl": []byte(contract.EarliestPosition)}, map[string][][]byte{ch: {pos(e)}}, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack)
	}
	if err := acks[2](ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := acks[0](ctx, nil); err != nil {
		t.Fatal(err)
	}
	st := loadState(t, res)
	if string(st.Positions[ch]) != string(pos(10)) || len(st.Acked[ch]) != 1 || string(st.Acked[ch][0]) != string(pos(30)) {
		t.Fatalf("stored %v acked %v; want resume after 10 and 30 acknowledged ahead", st.Positions, st.Acked)
	}

	// Second run: the carried entry is kept until the resume point passes it.
	c2 := New(Destination{Res: res, Cache: "c", Key: "k"}, 100, nil, logreader.PulsarPositions{})
	st2, err := c2.Load(ctx)
	if err != nil || st2 == nil || len(st2.Acked[ch]) != 1 {
		t.Fatalf("load: %v %v", st2, err)
	}
	c2.SetBase(st2.Positions)
	ack20, _ := c2.Track(ctx, map[string][]byte{ch: pos(20)}, map[string][][]byte{ch: {pos(20)}}, 1, 0)
	ack40, _ := c2.Track(ctx, map[string][]byte{ch: pos(40)}, map[string][][]byte{ch: {pos(40)}}, 1, 0)
	if err := ack20(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st := loadState(t, res); string(st.Positions[ch]) != string(pos(20)) || len(st.Acked[ch]) != 1 {
		t.Fatalf("after 20: %v %v; 30 must still be listed", st.Positions, st.Acked)
	}
	if err := ack40(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st := loadState(t, res); string(st.Positions[ch]) != string(pos(40)) || len(st.Acked) != 0 {
		t.Fatalf("after 40: %v %v; nothing may be listed", st.Positions, st.Acked)
	}

	// A nack without replay freezes checkpoints.
	ack50, _ := c2.Track(ctx, map[string][]byte{ch: pos(50)}, nil, 1, 0)
	ack60, _ := c2.Track(ctx, map[string][]byte{ch: pos(60)}, nil, 1, 0)
	_ = ack50(ctx, errTest)
	_ = ack60(ctx, nil)
	if st := loadState(t, res); string(st.Positions[ch]) != string(pos(40)) {
		t.Fatalf("checkpoint moved past a dropped batch: %v", st.Positions)
	}
}

var errTest = context.Canceled

func loadState(t *testing.T, res *service.Resources) contract.CheckpointState {
	t.Helper()
	var raw []byte
	var getErr error
	if err := res.AccessCache(context.Background(), "c", func(c service.Cache) { raw, getErr = c.Get(context.Background(), "k") }); err != nil || getErr != nil {
		t.Fatalf("read checkpoint: %v %v", err, getErr)
	}
	st, err := contract.DecodeCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCheckpointKeepsSnapshot: a stored snapshot progress survives the
// next position write, and UpdateSnapshot stores it with the positions.
func TestCheckpointKeepsSnapshot(t *testing.T) {
	res := service.MockResources(service.MockResourcesOptAddCache("c"))
	c := New(Destination{Res: res, Cache: "c", Key: "k"}, 10, nil, logreader.PulsarPositions{})
	c.SetBase(map[string][]byte{"ch": []byte(contract.EarliestPosition)})
	ctx := context.Background()
	if err := c.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
		s.State = contract.SnapshotCopying
		s.Collections = []contract.SnapshotCollection{{ID: 1, DB: "d", Name: "c", Parts: map[string]*contract.PartCursor{"_default": {Rows: 5}}}}
	}); err != nil {
		t.Fatal(err)
	}
	d := New(Destination{Res: res, Cache: "c", Key: "k"}, 10, nil, logreader.PulsarPositions{})
	st, err := d.Load(ctx)
	if err != nil || st == nil || !st.Snapshot.Copying() {
		t.Fatalf("loaded %+v, %v", st, err)
	}
	d.SetBase(st.Positions)
	if err := d.StoreBase(ctx); err != nil {
		t.Fatal(err)
	}
	e := New(Destination{Res: res, Cache: "c", Key: "k"}, 10, nil, logreader.PulsarPositions{})
	if st, err := e.Load(ctx); err != nil || st.Snapshot == nil || st.Snapshot.Collections[0].Parts["_default"].Rows != 5 {
		t.Fatalf("after a position write the snapshot is %+v (%v)", st.Snapshot, err)
	}
}

// TestAppliedUntil: the applied time moves over acknowledged batches in
// order only, and to the frontier only while nothing is in flight.
func TestAppliedUntil(t *testing.T) {
	ctx := context.Background()
	c := New(Destination{}, 100, nil, logreader.PulsarPositions{})
	ackA, _ := c.Track(ctx, nil, nil, 1, 10)
	ackB, _ := c.Track(ctx, nil, nil, 1, 20)
	if err := ackB(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if u := c.AppliedUntil(); u != 0 || c.Status() != nil {
		t.Fatalf("moved to %d past an unacknowledged batch", u)
	}
	c.Idle(50)
	if u := c.AppliedUntil(); u != 0 {
		t.Fatalf("idle moved to %d with a batch in flight", u)
	}
	if err := ackA(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if u := c.AppliedUntil(); u != 20 || !c.Settled() {
		t.Fatalf("applied until %d (settled %v), want 20", u, c.Settled())
	}
	ackC, _ := c.Track(ctx, nil, nil, 1, 25)
	if err := ackC(ctx, errors.New("refused")); err != nil {
		t.Fatal(err)
	}
	if u := c.AppliedUntil(); u != 20 || c.Settled() {
		t.Fatalf("a refused batch counted as applied: %d", u)
	}
	d := New(Destination{}, 100, nil, nil)
	d.Idle(30)
	st, ok := d.Status().(contract.InputStatus)
	if !ok || st.AppliedUntil != 30 {
		t.Fatalf("status %+v", d.Status())
	}
}
