package binlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// tsPatience is how long the copy keeps asking the source for a timestamp
// before the task fails.
const tsPatience = 90 * time.Second

// sourceClock is where a copy's timestamp comes from: the source's own
// allocation (AllocTimestamp, 2.4+), or the timestamp of a flush (2.3).
type sourceClock struct {
	alloc    func(ctx context.Context) (uint64, error)
	flush    func(ctx context.Context, db, coll string) (uint64, error)
	patience time.Duration
	log      *service.Logger
}

func grpcClock(src sourcemeta.GRPC, log *service.Logger) sourceClock {
	return sourceClock{
		alloc: func(ctx context.Context) (uint64, error) {
			resp, err := src.Svc.AllocTimestamp(ctx, &milvuspb.AllocTimestampRequest{})
			if err = contract.StatusErr(resp.GetStatus(), err); err != nil {
				return 0, err
			}
			return resp.GetTimestamp(), nil
		},
		flush:    src.FlushTs,
		patience: tsPatience,
		log:      log,
	}
}

// guaranteeTs is a timestamp of the source taken now (after the positions
// the stream starts from): every page is read with all writes up to it
// visible, so a write logged before those positions is in the copy. It is
// never guessed (a worker clock behind the source's would copy at a time
// before the pin, losing the writes in between): the source is asked again
// with a backoff, a flush of each planned collection in turn, and when it
// gives none within the patience the error fails the task. An empty plan
// needs none (0).
func (k sourceClock) guaranteeTs(ctx context.Context, plan []contract.SnapshotCollection) (uint64, error) {
	if len(plan) == 0 {
		return 0, nil
	}
	bo := backoff.New()
	giveUp := time.Now().Add(k.patience)
	for i := 0; ; i++ {
		ts, err := k.alloc(ctx)
		if err == nil && ts != 0 {
			return ts, nil
		}
		c := plan[i%len(plan)] // one planned collection may be gone: the next may answer
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		fts, ferr := k.flush(fctx, c.DB, c.Name)
		cancel()
		if ferr == nil && fts != 0 {
			return fts, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err == nil {
			err = errors.New("it answered 0")
		}
		if ferr == nil {
			ferr = errors.New("it gave no timestamp")
		}
		last := fmt.Errorf("AllocTimestamp: %v; flush of %s.%s: %v", err, c.DB, c.Name, ferr)
		if time.Now().After(giveUp) {
			return 0, &logreader.FatalError{Err: fmt.Errorf("snapshot: the source gave no timestamp to read the copy at, asked for %s (%w). "+
				"The copy is never read at a guessed time: check that the source Milvus is up and its collections can be flushed, then resume the task; nothing was copied or skipped",
				k.patience, last)}
		}
		if k.log != nil {
			k.log.Warnf("Snapshot: the source gives no timestamp to read the copy at (asked again until %s): %v", giveUp.Format(time.RFC3339), last)
		}
		if !bo.Wait(ctx) {
			return 0, ctx.Err()
		}
	}
}
