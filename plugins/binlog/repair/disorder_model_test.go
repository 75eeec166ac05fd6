package repair

import (
	"context"
	"math/rand"
	"sort"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// write is one source write of the model: an insert, a delete, or an
// upsert (Insert and Delete of the same keys at one timestamp).
type write struct {
	op   string // insert, delete, upsert
	ts   uint64
	keys []int64
}

// sourceState is what Milvus holds after the writes: per key, the newest
// write decides (at one timestamp an upsert's insert survives its delete);
// the value of a present key is the timestamp of the write that put it there.
func sourceState(ws []write) map[int64]uint64 {
	sorted := append([]write(nil), ws...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ts < sorted[j].ts })
	out := map[int64]uint64{}
	for _, w := range sorted {
		for _, k := range w.keys {
			if w.op == contract.OpDelete {
				delete(out, k)
			} else {
				out[k] = w.ts
			}
		}
	}
	return out
}

// events renders a write as the WAL messages Milvus writes for it.
func events(t *testing.T, w write) []*wal.Event {
	ins := func() *wal.Event {
		e := writeOf(t, contract.OpInsert, w.ts, w.keys...)
		if w.op == "upsert" {
			e.BaseTs = 0
		}
		return e
	}
	switch w.op {
	case contract.OpInsert:
		return []*wal.Event{ins()}
	case contract.OpDelete:
		return []*wal.Event{writeOf(t, contract.OpDelete, w.ts, w.keys...)}
	}
	return []*wal.Event{ins(), writeOf(t, contract.OpDelete, w.ts, w.keys...)}
}

// applyAsOutput applies released events the way milvus_apply does: inserts
// are upserts, a delete removes its keys, an upsert's Delete is skipped.
func applyAsOutput(t *testing.T, target map[int64]uint64, evs []*wal.Event) {
	for _, e := range evs {
		switch {
		case e.Op == contract.OpInsert:
			var req msgpb.InsertRequest
			if err := proto.Unmarshal(e.Payload, &req); err != nil {
				t.Fatal(err)
			}
			ints, _, _ := wal.PKValues(req.GetFieldsData(), "id")
			for _, k := range ints {
				target[k] = e.Ts
			}
		case e.Op == contract.OpDelete && !e.Upsert:
			var req msgpb.DeleteRequest
			if err := proto.Unmarshal(e.Payload, &req); err != nil {
				t.Fatal(err)
			}
			ints, _ := wal.DeletePKs(&req)
			for _, k := range ints {
				delete(target, k)
			}
		}
	}
}

// TestOutOfOrderWritesEndExact: recorded channel input where writes of
// several "proxies" arrive out of timestamp order between two ticks (an
// upsert's halves in order, other writes possibly between them) goes
// through the channel's repair stage and the merger with ordering: key, and
// is applied as milvus_apply does: the target always ends equal to the
// source. Without the replays of disorder.go most seeds end different.
func TestOutOfOrderWritesEndExact(t *testing.T) {
	ctx := context.Background()
	for seed := int64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {}}})
		m := order.New([]string{"a"}, "", 1<<40, 1<<20, 1<<30)
		m.SetOrdering(order.OrderingKey)
		target := map[int64]uint64{}
		var all []write
		ts := uint64(100)
		for window := 0; window < 6; window++ {
			var ws []write
			for i := 0; i < 2+rng.Intn(6); i++ {
				ts += 1 + uint64(rng.Intn(3))
				w := write{op: []string{contract.OpInsert, contract.OpDelete, "upsert"}[rng.Intn(3)], ts: ts}
				for _, k := range rng.Perm(6)[:1+rng.Intn(3)] {
					w.keys = append(w.keys, int64(k))
				}
				ws = append(ws, w)
			}
			all = append(all, ws...)
			// Arrival: writes shuffled; an upsert's Delete may come after
			// another write, never before its Insert.
			var arrival []*wal.Event
			var heldDelete *wal.Event
			for _, i := range rng.Perm(len(ws)) {
				evs := events(t, ws[i])
				arrival = append(arrival, evs[0])
				if heldDelete != nil {
					arrival, heldDelete = append(arrival, heldDelete), nil
				}
				if len(evs) == 2 {
					if rng.Intn(2) == 0 {
						heldDelete = evs[1]
					} else {
						arrival = append(arrival, evs[1])
					}
				}
			}
			if heldDelete != nil {
				arrival = append(arrival, heldDelete)
			}
			for _, e := range arrival {
				for _, out := range c.Write(ctx, e) {
					m.PushEvent(0, out)
				}
				got, _ := m.PopReady(1<<20, 1<<30)
				applyAsOutput(t, target, got)
			}
			ts += 5
			c.Tick(ctx, ts, []byte("tick"))
			m.PushTick(0, ts, []byte("tick"))
			got, _ := m.PopReady(1<<20, 1<<30)
			applyAsOutput(t, target, got)
		}
		want := sourceState(all)
		if len(target) != len(want) {
			t.Fatalf("seed %d: target %v, source %v", seed, target, want)
		}
		for k, v := range want {
			if target[k] != v {
				t.Fatalf("seed %d: key %d: target %d, source %d (target %v, source %v)", seed, k, target[k], v, target, want)
			}
		}
		if !c.resyncTill.IsZero() {
			t.Fatalf("seed %d: a resync window started", seed)
		}
	}
}
