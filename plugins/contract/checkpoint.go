package contract

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// CheckpointVersion is stored with every checkpoint so a future format can
// tell old ones apart. A checkpoint whose snapshot is not finished is
// stored as CheckpointVersionSnapshot: a build that knows no snapshot refuses
// it rather than streaming past an unfinished copy.
const (
	CheckpointVersion         = 1
	CheckpointVersionSnapshot = 2
)

// EarliestPosition is the position of a channel on which nothing was read
// yet and that had nothing before the reader started: resume at its
// beginning.
const EarliestPosition = "earliest"

// Checkpoint is the JSON value a milvus_binlog input keeps under its
// checkpoint key (for a task: CheckpointKey). Channels holds, per channel
// (topic short name), the position of the last message read whose every
// predecessor was acknowledged: reading resumes after it. Acked lists
// messages beyond that position that the output acknowledged out of order: a
// restart skips them instead of delivering them twice. Collections keeps the
// names of streamed collections until their drop is passed (Milvus 2.3 logs
// no database name). Positions are base64 of serialized log message IDs, or
// EarliestPosition.
type Checkpoint struct {
	Version     int                      `json:"version"`
	Channels    map[string]string        `json:"channels"`
	Acked       map[string][]string      `json:"acked,omitempty"`
	Collections map[string]CollectionRef `json:"collections,omitempty"` // collection ID → names
	Snapshot    *SnapshotState           `json:"snapshot,omitempty"`
}

// CheckpointState is a decoded Checkpoint: positions are raw message IDs
// (or []byte(EarliestPosition)).
type CheckpointState struct {
	Positions map[string][]byte
	Acked     map[string][][]byte
	Names     map[int64]CollectionRef
	Snapshot  *SnapshotState
}

// EncodePosition renders a raw position as the checkpoint stores it.
func EncodePosition(id []byte) string {
	if string(id) == EarliestPosition {
		return EarliestPosition
	}
	return base64.StdEncoding.EncodeToString(id)
}

// DecodePosition reads a position of a checkpoint.
func DecodePosition(s string) ([]byte, error) {
	if s == EarliestPosition {
		return []byte(EarliestPosition), nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// EncodeCheckpoint renders a state as stable JSON bytes (an unchanged state
// gives the same bytes, so it need not be written again).
func EncodeCheckpoint(st CheckpointState) ([]byte, error) {
	sc := Checkpoint{Version: CheckpointVersion, Channels: make(map[string]string, len(st.Positions)), Snapshot: st.Snapshot}
	if st.Snapshot.Copying() {
		sc.Version = CheckpointVersionSnapshot
	}
	for ch, id := range st.Positions {
		sc.Channels[ch] = EncodePosition(id)
	}
	for ch, ids := range st.Acked {
		if len(ids) == 0 {
			continue
		}
		if sc.Acked == nil {
			sc.Acked = map[string][]string{}
		}
		enc := make([]string, len(ids))
		for i, id := range ids {
			enc[i] = EncodePosition(id)
		}
		sort.Strings(enc)
		sc.Acked[ch] = enc
	}
	for id, ref := range st.Names {
		if sc.Collections == nil {
			sc.Collections = map[string]CollectionRef{}
		}
		sc.Collections[strconv.FormatInt(id, 10)] = ref
	}
	return json.Marshal(sc)
}

// ParseCheckpoint reads the JSON of a checkpoint and checks its version.
func ParseCheckpoint(b []byte) (Checkpoint, error) {
	var sc Checkpoint
	if err := json.Unmarshal(b, &sc); err != nil {
		return Checkpoint{}, fmt.Errorf("stored checkpoint is not valid JSON: %w", err)
	}
	if sc.Version != CheckpointVersion && sc.Version != CheckpointVersionSnapshot {
		return Checkpoint{}, fmt.Errorf("stored checkpoint has version %d, this build reads versions %d and %d", sc.Version, CheckpointVersion, CheckpointVersionSnapshot)
	}
	if (sc.Version == CheckpointVersionSnapshot) != sc.Snapshot.Copying() {
		return Checkpoint{}, fmt.Errorf("stored checkpoint has version %d but its snapshot is %s", sc.Version, snapshotStateOf(sc.Snapshot))
	}
	return sc, nil
}

// DecodeCheckpoint reads a checkpoint into its state.
func DecodeCheckpoint(b []byte) (CheckpointState, error) {
	sc, err := ParseCheckpoint(b)
	if err != nil {
		return CheckpointState{}, err
	}
	st := CheckpointState{Positions: make(map[string][]byte, len(sc.Channels)), Snapshot: sc.Snapshot}
	if st.Snapshot != nil {
		st.Snapshot.SortCollections()
	}
	for ch, s := range sc.Channels {
		id, err := DecodePosition(s)
		if err != nil {
			return CheckpointState{}, fmt.Errorf("stored checkpoint of channel %s: %w", ch, err)
		}
		st.Positions[ch] = id
	}
	for ch, list := range sc.Acked {
		for _, s := range list {
			id, err := DecodePosition(s)
			if err != nil || string(id) == EarliestPosition {
				return CheckpointState{}, fmt.Errorf("stored checkpoint lists an invalid acknowledged message on channel %s", ch)
			}
			if st.Acked == nil {
				st.Acked = map[string][][]byte{}
			}
			st.Acked[ch] = append(st.Acked[ch], id)
		}
	}
	for id, ref := range sc.Collections {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || ref.Name == "" {
			return CheckpointState{}, fmt.Errorf("stored checkpoint names an invalid collection %q", id)
		}
		if st.Names == nil {
			st.Names = map[int64]CollectionRef{}
		}
		st.Names[n] = ref
	}
	return st, nil
}

func snapshotStateOf(s *SnapshotState) string {
	if s == nil {
		return "absent"
	}
	return fmt.Sprintf("%q", s.State)
}
