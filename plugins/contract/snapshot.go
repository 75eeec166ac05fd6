package contract

import (
	"encoding/json"
	"sort"
)

// Snapshot states, in order. A task copies what the source holds (pending,
// copying), then streams from the positions pinned before the copy
// (catching_up) until the stream has passed the copy's end (done). A
// collection whose rows cannot be read yet (SnapshotCollection.Waiting)
// does not hold the state back: the state moves on with it listed as
// waiting (SnapshotState.Waiting), and it is copied once readable.
const (
	SnapshotPending    = "pending"
	SnapshotCopying    = "copying"
	SnapshotCatchingUp = "catching_up"
	SnapshotDone       = "done"
	SnapshotNever      = "never" // shown for tasks that asked for none
)

// SnapshotState is the progress of an initial snapshot, kept in the same
// checkpoint value as the positions pinned before it (one write: progress and
// positions never disagree).
type SnapshotState struct {
	State string `json:"state"`
	// GuaranteeTs: every page is read with everything up to it visible
	// (allocated after the positions were pinned).
	GuaranteeTs uint64               `json:"guarantee_ts,omitempty"`
	EndTs       uint64               `json:"end_ts,omitempty"` // the copy's end (set at catching_up)
	Collections []SnapshotCollection `json:"collections,omitempty"`
}

// SnapshotCollection is the progress of one source collection.
type SnapshotCollection struct {
	ID          int64  `json:"id"`
	DB          string `json:"db"`
	Name        string `json:"name"`
	CatalogDone bool   `json:"catalog_done,omitempty"` // database, schema, partitions, indexes sent and acknowledged
	// Parts: per partition ("" = the whole collection, for partition-key
	// collections), where the copy is.
	Parts      map[string]*PartCursor `json:"parts,omitempty"`
	TempLoaded []string               `json:"temp_loaded,omitempty"` // partitions loaded for the copy, to release
	Done       bool                   `json:"done,omitempty"`
	Gone       string                 `json:"gone,omitempty"` // why it was not copied (dropped meanwhile)
	// Waiting: why its rows cannot be read yet (no index on a vector field:
	// Milvus 2.3 cannot load, so cannot query, it). Everything else is
	// copied and streamed meanwhile; the stream drops its rows until it is
	// copied, at GuaranteeTs.
	Waiting string `json:"waiting,omitempty"`
	// GuaranteeTs: the timestamp a copy made after the stream started
	// (a collection that waited) reads at; 0: the snapshot's.
	GuaranteeTs uint64 `json:"guarantee_ts,omitempty"`
}

// SnapshotWait names a collection whose copy waits, and why.
type SnapshotWait struct {
	Collection string `json:"collection"` // db.name
	Reason     string `json:"reason"`
}

// Waiting lists the collections whose copy waits (nil: none).
func (s *SnapshotState) Waiting() []SnapshotWait {
	if s == nil {
		return nil
	}
	var out []SnapshotWait
	for _, c := range s.Collections {
		if c.Waiting != "" && !c.Done {
			out = append(out, SnapshotWait{Collection: c.DB + "." + c.Name, Reason: c.Waiting})
		}
	}
	return out
}

// Deferred lists the collections a copy must still finish while the
// stream runs (they waited, then became readable): none while the first
// copy is going on.
func (s *SnapshotState) Deferred() []SnapshotCollection {
	if s == nil || s.Copying() {
		return nil
	}
	var out []SnapshotCollection
	for _, c := range s.Collections {
		if !c.Done && c.Waiting == "" {
			out = append(out, c)
		}
	}
	return out
}

// PartCursor is the copy's position in one partition: every row with a
// primary key up to LastPK is acknowledged by the output.
type PartCursor struct {
	LastPK json.RawMessage `json:"last_pk,omitempty"` // a JSON number (Int64 key) or string (VarChar key)
	Rows   int64           `json:"rows"`
	Done   bool            `json:"done,omitempty"`
}

// Clone returns a deep copy.
func (s *SnapshotState) Clone() *SnapshotState {
	out := *s
	out.Collections = make([]SnapshotCollection, len(s.Collections))
	for i, c := range s.Collections {
		c.TempLoaded = append([]string(nil), c.TempLoaded...)
		if c.Parts != nil {
			parts := make(map[string]*PartCursor, len(c.Parts))
			for k, p := range c.Parts {
				cp := *p
				cp.LastPK = append(json.RawMessage(nil), p.LastPK...)
				parts[k] = &cp
			}
			c.Parts = parts
		}
		out.Collections[i] = c
	}
	return &out
}

// Copying reports whether the snapshot is not finished: the stream must not
// move past the pinned positions yet.
func (s *SnapshotState) Copying() bool {
	return s != nil && (s.State == SnapshotPending || s.State == SnapshotCopying)
}

// Progress sums the progress up: collections in all, copied, rows copied.
func (s *SnapshotState) Progress() (total, done int, rows int64) {
	if s == nil {
		return 0, 0, 0
	}
	for _, c := range s.Collections {
		total++
		if c.Done {
			done++
		}
		for _, p := range c.Parts {
			rows += p.Rows
		}
	}
	return total, done, rows
}

// Collection returns the progress of collection id (nil if not planned).
func (s *SnapshotState) Collection(id int64) *SnapshotCollection {
	i := sort.Search(len(s.Collections), func(i int) bool { return s.Collections[i].ID >= id })
	if i < len(s.Collections) && s.Collections[i].ID == id {
		return &s.Collections[i]
	}
	return nil
}

// SortCollections orders the collections by ID (Collection needs it).
func (s *SnapshotState) SortCollections() {
	sort.Slice(s.Collections, func(i, j int) bool { return s.Collections[i].ID < s.Collections[j].ID })
}
