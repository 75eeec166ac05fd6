package binlog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// fakeClock fails its first `fails` answers (both ways), then gives ts by
// a flush; allocation stays refused (a 2.3 source).
type fakeClock struct {
	fails, asked int
	flushed      []string
	ts           uint64
}

func (f *fakeClock) clock(patience time.Duration) sourceClock {
	return sourceClock{
		alloc: func(context.Context) (uint64, error) { return 0, errors.New("unimplemented: AllocTimestamp") },
		flush: func(_ context.Context, db, coll string) (uint64, error) {
			f.asked++
			f.flushed = append(f.flushed, db+"."+coll)
			if f.asked <= f.fails {
				return 0, errors.New("collection not found")
			}
			return f.ts, nil
		},
		patience: patience,
		log:      service.MockResources().Logger(),
	}
}

var twoColls = []contract.SnapshotCollection{{ID: 1, DB: "default", Name: "a"}, {ID: 2, DB: "default", Name: "b"}}

func TestGuaranteeTsRetriesTheSource(t *testing.T) {
	f := &fakeClock{fails: 3, ts: 4242}
	before := contract.HybridTs(time.Now())
	ts, err := f.clock(time.Minute).guaranteeTs(context.Background(), twoColls)
	if err != nil || ts != 4242 {
		t.Fatalf("got %d, %v; want the source's 4242", ts, err)
	}
	if ts >= before {
		t.Fatal("a worker-clock timestamp was used")
	}
	// Each planned collection in turn: one gone does not stop the others.
	if strings.Join(f.flushed, ",") != "default.a,default.b,default.a,default.b" {
		t.Fatalf("flushed %v", f.flushed)
	}
}

func TestGuaranteeTsFailsWithAReason(t *testing.T) {
	f := &fakeClock{fails: 1 << 30}
	ts, err := f.clock(300*time.Millisecond).guaranteeTs(context.Background(), twoColls)
	if ts != 0 || !logreader.IsFatal(err) {
		t.Fatalf("got %d, %v; want no timestamp and a fatal error", ts, err)
	}
	for _, want := range []string{"AllocTimestamp", "unimplemented", "flush of default.", "collection not found", "never read at a guessed time"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if f.asked < 2 {
		t.Fatalf("asked %d times: want retries", f.asked)
	}

	// Ended by its context: that error, not a timestamp.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ts, err := f.clock(time.Hour).guaranteeTs(ctx, twoColls); ts != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %d, %v", ts, err)
	}
	// Nothing planned: nothing to read at, nothing asked.
	f.asked = 0
	if ts, err := f.clock(time.Hour).guaranteeTs(context.Background(), nil); ts != 0 || err != nil || f.asked != 0 {
		t.Fatalf("empty plan: %d, %v, asked %d", ts, err, f.asked)
	}
}
