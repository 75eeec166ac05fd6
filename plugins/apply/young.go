package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// youngFor is how long after its create a target collection counts as young:
// its channels may still be being watched by the target's data node.
const youngFor = 10 * time.Second

// A Milvus 2.3 data node seeks each channel of a new collection one after the
// other, waiting for the channel's next message, and holds a lock over all of
// them while it does. Drop the collection during that wait and its channel
// may never carry another message: the seek waits forever and the data node
// watches no new channel again, so every later flush on the target fails
// ("channel not found") and nothing created since is ever flushed or loaded.
// Replication applies a create, the rows and a drop faster than the source
// saw them, so it drops a young collection only after a flush of it returned:
// datacoord answers a flush only once the data node watches every channel.

// created notes that this writer created ref now.
func (a *applier) created(ref contract.CollectionRef) {
	a.young[ref] = time.Now()
}

// settleYoung flushes ref before its drop if this writer created it less than
// youngFor ago. A failed flush is logged, not returned: the drop goes on.
func (a *applier) settleYoung(ctx context.Context, ref contract.CollectionRef) {
	at, ok := a.young[ref]
	if !ok {
		return
	}
	delete(a.young, ref)
	if time.Since(at) > youngFor {
		return
	}
	resp, err := a.api.Flush(ctx, &milvuspb.FlushRequest{DbName: ref.DB, CollectionNames: []string{ref.Name}})
	if err := statusError(fmt.Sprintf("flush %s.%s before its drop", ref.DB, ref.Name), resp.GetStatus(), err); err != nil {
		a.log.Warnf("Target collection %s.%s was created %s ago; %v (dropping it anyway)", ref.DB, ref.Name, time.Since(at).Round(time.Millisecond), err)
	}
}
