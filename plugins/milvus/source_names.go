package milvus

import (
	"sync"
)

// knownNames carries the names of the collections a pipeline streams across
// restarts, inside the checkpoint. Milvus 2.3 logs no database name, and a
// collection dropped while the pipeline was stopped can no longer be looked
// up: without this its drop would land in database "default" (and be
// filtered out). An entry leaves once the checkpoint has passed the
// collection's drop on every channel the drop was seen on.
type knownNames struct {
	mu      sync.Mutex
	names   map[int64]collectionRef
	dropped map[int64]map[string]msgKey // channel → position of the drop
}

func newKnownNames() *knownNames {
	return &knownNames{names: map[int64]collectionRef{}, dropped: map[int64]map[string]msgKey{}}
}

// seen records the names of a streamed collection.
func (k *knownNames) seen(id int64, ref collectionRef) {
	if id == 0 || ref.Name == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.names[id]; !ok {
		k.names[id] = ref
	}
}

// droppedAt records a drop of collection id read at pos on channel.
func (k *knownNames) droppedAt(id int64, channel string, pos []byte) {
	key, err := keyOfPosition(pos)
	if err != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dropped[id] == nil {
		k.dropped[id] = map[string]msgKey{}
	}
	k.dropped[id][channel] = key
}

// snapshot returns the entries to store with checkpoint positions pos,
// forgetting collections whose drops pos has passed.
func (k *knownNames) snapshot(pos map[string][]byte) map[int64]collectionRef {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, drops := range k.dropped {
		passed := true
		for ch, at := range drops {
			cur, err := keyOfPosition(pos[ch])
			if err != nil || at.after(cur) {
				passed = false
			}
		}
		if passed {
			delete(k.names, id)
			delete(k.dropped, id)
		}
	}
	out := make(map[int64]collectionRef, len(k.names))
	for id, ref := range k.names {
		out[id] = ref
	}
	return out
}
