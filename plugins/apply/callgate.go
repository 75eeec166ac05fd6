package apply

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// maxCallTime bounds one call to the target when no lease bounds it sooner.
const maxCallTime = 30 * time.Second

// callGate is the outermost interceptor of the output's target client: each
// call is sent only while the writer's lease is valid and ends before the
// lease could expire. With the SDK's own retries off (milvusconn
// DialGuarded), no call outlives the lease it was sent under, so a writer
// that lost its lease cannot land a change after the next writer's.
type callGate struct {
	lease atomic.Pointer[lease.Lease] // nil while dialing (before the lease is held)
}

func (g *callGate) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	deadline := time.Now().Add(maxCallTime)
	if l := g.lease.Load(); l != nil {
		until, err := l.CallDeadline()
		if err != nil {
			return fmt.Errorf("not sent to the target: %w", err)
		}
		if until.Before(deadline) {
			deadline = until
		}
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return invoker(ctx, method, req, reply, cc, opts...)
}
