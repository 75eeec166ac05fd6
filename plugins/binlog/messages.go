package binlog

import (
	"fmt"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
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

// render makes the messages of a released event. An event that cannot be
// rendered stops the input for good (a *logreader.FatalError): its batch is
// never handed out, so neither it nor anything after it is acknowledged and
// the checkpoint never passes it.
func (b *binlogInput) render(ev *wal.Event) ([]*service.Message, error) {
	msgs, err := eventMessages(ev, b.conf.format)
	if err != nil {
		return nil, &logreader.FatalError{Err: fmt.Errorf(
			"cannot render the %s of collection %s.%s (channel %s, message %x) as %s: %w. It is not skipped: the input stops before it (nothing from it on is acknowledged)",
			ev.Op, ev.DbName, ev.CollectionName, ev.Channel, ev.Position, b.conf.format, err)}
	}
	return msgs, nil
}
