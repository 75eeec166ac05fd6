package checkpoint

import (
	"sync"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Names carries the names of the collections a pipeline streams across
// restarts, inside the checkpoint. Milvus 2.3 logs no database name, and a
// collection dropped while the pipeline was stopped can no longer be looked
// up: without this its drop would land in database "default" (and be
// filtered out). An entry leaves once the checkpoint has passed the
// collection's drop on every channel the drop was seen on.
type Names struct {
	mu      sync.Mutex
	names   map[int64]contract.CollectionRef
	dropped map[int64]map[string]logreader.Key // channel → position of the drop
}

func NewNames() *Names {
	return &Names{names: map[int64]contract.CollectionRef{}, dropped: map[int64]map[string]logreader.Key{}}
}

// Seen records the names of a streamed collection.
func (k *Names) Seen(id int64, ref contract.CollectionRef) {
	if id == 0 || ref.Name == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.names[id]; !ok {
		k.names[id] = ref
	}
}

// Renamed records the new names of a streamed collection.
func (k *Names) Renamed(id int64, ref contract.CollectionRef) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.names[id]; ok {
		k.names[id] = ref
	}
}

// Follows reports whether collection id is streamed: it stays selected
// when renamed to a name the collection patterns do not match.
func (k *Names) Follows(id int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.names[id]
	return ok
}

// DroppedAt records a drop of collection id read at pos on channel.
func (k *Names) DroppedAt(id int64, channel string, pos []byte) {
	key, err := logreader.KeyOf(pos)
	if err != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dropped[id] == nil {
		k.dropped[id] = map[string]logreader.Key{}
	}
	k.dropped[id][channel] = key
}

// Snapshot returns the entries to store with checkpoint positions pos,
// forgetting collections whose drops pos has passed.
func (k *Names) Snapshot(pos map[string][]byte) map[int64]contract.CollectionRef {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, drops := range k.dropped {
		passed := true
		for ch, at := range drops {
			cur, err := logreader.KeyOf(pos[ch])
			if err != nil || at.After(cur) {
				passed = false
			}
		}
		if passed {
			delete(k.names, id)
			delete(k.dropped, id)
		}
	}
	out := make(map[int64]contract.CollectionRef, len(k.names))
	for id, ref := range k.names {
		out[id] = ref
	}
	return out
}
