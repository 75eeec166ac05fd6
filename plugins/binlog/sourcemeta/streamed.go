package sourcemeta

import (
	"sync"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Names is the one registry of the collections a pipeline streams: the
// Catalog looks names up in it and the checkpoint stores it, so they
// carry across restarts. Milvus 2.3 logs no database name, and a
// collection dropped while the pipeline was stopped can no longer be looked
// up: without this its drop would land in database "default" (and be
// filtered out). An entry leaves once the checkpoint has passed the
// collection's drop on every channel the drop was seen on.
type Names struct {
	mu      sync.Mutex
	pos     logreader.Positions // nil: drops are never passed
	names   map[int64]contract.CollectionRef
	dropped map[int64]map[string][]byte // channel → position of the drop
}

// NewNames returns an empty registry whose drops are ordered by pos.
func NewNames(pos logreader.Positions) *Names {
	return &Names{pos: pos, names: map[int64]contract.CollectionRef{}, dropped: map[int64]map[string][]byte{}}
}

// Lookup returns the names registered for collection id.
func (k *Names) Lookup(id int64) (contract.CollectionRef, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ref, ok := k.names[id]
	return ref, ok
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
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dropped[id] == nil {
		k.dropped[id] = map[string][]byte{}
	}
	k.dropped[id][channel] = pos
}

// Snapshot returns the entries to store with checkpoint positions pos,
// forgetting collections whose drops pos has passed.
func (k *Names) Snapshot(pos map[string][]byte) map[int64]contract.CollectionRef {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, drops := range k.dropped {
		passed := true
		for ch, at := range drops {
			if !k.passed(at, pos[ch]) {
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

// passed reports whether checkpoint position cur is at or after drop.
func (k *Names) passed(drop, cur []byte) bool {
	if k.pos == nil || cur == nil {
		return false
	}
	after, err := k.pos.After(drop, cur)
	return err == nil && !after
}
