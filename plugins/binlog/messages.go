package binlog

import (
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// format values.
const (
	formatProtobuf = "protobuf"
	formatJSON     = "json"
)

// eventMessages turns one released event into Benthos messages in the
// configured format, each with the event's metadata (contract.Meta).
func eventMessages(ev *wal.Event, format string) ([]*service.Message, error) {
	if format != formatJSON {
		msg := service.NewMessage(ev.Payload)
		ev.Meta(true).Set(msg)
		return []*service.Message{msg}, nil
	}
	objs, err := wal.JSON(ev)
	if err != nil {
		return nil, err
	}
	meta := ev.Meta(false)
	out := make([]*service.Message, 0, len(objs))
	for _, b := range objs {
		msg := service.NewMessage(b)
		meta.Set(msg)
		out = append(out, msg)
	}
	return out, nil
}
