package apply

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// refusingTarget is the fake target whose Upsert never succeeds: it answers
// with a rate-limit status, or fails the call as unavailable, or holds it
// until the caller gives up; every Upsert and its deadline are recorded.
type refusingTarget struct {
	*fakeTarget
	how string // "rate_limit", "unavailable", "hold"

	mu        sync.Mutex
	upserts   []time.Time // when each Upsert arrived
	deadlines []time.Time // each Upsert's deadline (zero: none)
}

func (f *refusingTarget) Upsert(ctx context.Context, _ *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	dl, _ := ctx.Deadline()
	f.mu.Lock()
	f.upserts = append(f.upserts, time.Now())
	f.deadlines = append(f.deadlines, dl)
	f.mu.Unlock()
	switch f.how {
	case "unavailable":
		return nil, status.Error(codes.Unavailable, "target restarting")
	case "hold":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_RateLimit, Code: 8, Reason: "rate limit exceeded"}}, nil
}

func (f *refusingTarget) calls() ([]time.Time, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.upserts...), append([]time.Time(nil), f.deadlines...)
}

func refusingWriter(t *testing.T, how string, extraYAML ...string) (*applyWriter, *refusingTarget) {
	t.Helper()
	fake := &refusingTarget{fakeTarget: newFakeTarget(), how: how}
	fake.addCopy("default", "c", 7)
	return writerFor(t, fake, append([]string{"replication_id: r1"}, extraYAML...)...), fake
}

func oneInsert(t *testing.T) service.MessageBatch {
	return service.MessageBatch{walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}),
		map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7"})}
}

// TestSDKRetriesNothing: an upsert the target refuses (rate limited, or
// unavailable) is sent once per attempt of the output's own retry loop: the
// SDK's interceptors (up to 75 rate-limit and 6 unavailable re-sends, with
// no lease check between them) are off. With the output's backoff at an
// hour, the target sees exactly one call.
func TestSDKRetriesNothing(t *testing.T) {
	for _, how := range []string{"rate_limit", "unavailable"} {
		t.Run(how, func(t *testing.T) {
			w, fake := refusingWriter(t, how, "retry_backoff: { initial_interval: 1h, max_interval: 1h }")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.WriteBatch(ctx, oneInsert(t)) }()
			time.Sleep(3 * time.Second) // the SDK's retries would all have been sent by now
			cancel()
			if err := <-done; err == nil {
				t.Fatal("a refused upsert was acknowledged")
			}
			if n, _ := fake.calls(); len(n) != 1 {
				t.Fatalf("the target got %d upserts for one attempt, want 1 (the SDK re-sent it)", len(n))
			}
			_ = w.Close(context.Background())
		})
	}
}

// TestCallHasDeadline: a call the target holds ends by itself (a call
// deadline), and the next attempt is a new call of the output's loop.
func TestCallHasDeadline(t *testing.T) {
	w, fake := refusingWriter(t, "hold", "retry_backoff: { initial_interval: 1h, max_interval: 1h }")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.WriteBatch(ctx, oneInsert(t)) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, dl := fake.calls(); len(n) > 0 {
			if dl[0].IsZero() || dl[0].Sub(n[0]) > maxCallTime+time.Second {
				t.Fatalf("the upsert was sent with deadline %v (arrived %v): want one within %s", dl[0], n[0], maxCallTime)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no upsert reached the target")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	_ = w.Close(context.Background())
}
