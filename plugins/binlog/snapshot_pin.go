package binlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// pinScanLimit bounds one look for a CreateCollection after the pin.
const pinScanLimit = time.Minute

// createdAfterPin returns the check the copy makes before it loads a
// collection that is not loaded on the source: is the collection's
// CreateCollection after the pinned position of its channel? Then its whole
// history is in the stream and the copy need not read its rows (nor load
// it). It reads the channel from the pin until it finds the
// CreateCollection (true) or a time tick past the collection's creation
// timestamp (false: Milvus's root coordinator writes creations and ticks
// of a channel in timestamp order, so the creation was at or before the
// pin). Anything else, the end of the log included, answers false: the
// rows are then copied.
func createdAfterPin(log logreader.Log, pins map[string][]byte) func(ctx context.Context, id int64, channels []string, createdTs uint64) (bool, error) {
	return func(ctx context.Context, id int64, channels []string, createdTs uint64) (bool, error) {
		if createdTs == 0 || len(channels) == 0 {
			return false, nil
		}
		ctx, cancel := context.WithTimeout(ctx, pinScanLimit)
		defer cancel()
		ch := channels[0] // every channel of a collection gets its CreateCollection
		pin, ok := pins[ch]
		if !ok {
			return false, fmt.Errorf("no pinned position for channel %s", ch)
		}
		c, err := log.Open(ctx, logreader.OpenOptions{Name: ch, From: pin})
		if err != nil {
			return false, err
		}
		defer c.Close()
		for {
			msg, err := c.Next(ctx)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return false, nil
				}
				return false, err
			}
			if msg.Kind != logreader.Data {
				continue
			}
			ev, err := wal.Decode(msg.Payload)
			if err != nil {
				continue // not ours to judge here: the stream stops on it
			}
			switch {
			case ev.Op == contract.OpCreateCollection && ev.CollectionID == id:
				return true, nil
			case ev.Op == contract.OpTimeTick && ev.Ts > createdTs:
				return false, nil
			}
		}
	}
}
