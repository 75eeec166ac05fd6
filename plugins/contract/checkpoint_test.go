package contract

import "testing"

// pos is a stand-in for a serialized log message ID.
func pos(entry int64) []byte { return []byte{7, byte(entry)} }

func TestCheckpointRoundTrip(t *testing.T) {
	in := CheckpointState{
		Positions: map[string][]byte{"by-dev-rootcoord-dml_0": pos(3), "by-dev-replicate-msg": []byte(EarliestPosition)},
		Acked:     map[string][][]byte{"by-dev-rootcoord-dml_0": {pos(5), pos(9)}},
	}
	b, err := EncodeCheckpoint(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Positions) != 2 || string(out.Positions["by-dev-rootcoord-dml_0"]) != string(pos(3)) || string(out.Positions["by-dev-replicate-msg"]) != EarliestPosition {
		t.Fatalf("positions after round trip: %v", out.Positions)
	}
	if got := out.Acked["by-dev-rootcoord-dml_0"]; len(got) != 2 {
		t.Fatalf("acked after round trip: %v", out.Acked)
	}
	for _, bad := range []string{"", "{", `{"version":2,"channels":{}}`, `{"version":3,"channels":{}}`, `{"version":1,"channels":{},"snapshot":{"state":"copying"}}`, `{"version":1,"channels":{"a":"%%%"}}`,
		`{"version":1,"channels":{},"acked":{"a":["earliest"]}}`, `{"version":1,"channels":{},"acked":{"a":["%%"]}}`} {
		if _, err := DecodeCheckpoint([]byte(bad)); err == nil {
			t.Errorf("checkpoint %q accepted", bad)
		}
	}
}

// TestCheckpointKeepsSnapshotProgress: the snapshot's progress travels with
// the positions; an unfinished copy is stored as version 2 (an older build
// refuses it), a finished one as version 1.
func TestCheckpointKeepsSnapshotProgress(t *testing.T) {
	snap := &SnapshotState{State: SnapshotCopying, GuaranteeTs: 42, Collections: []SnapshotCollection{
		{ID: 9, DB: "d", Name: "b", Parts: map[string]*PartCursor{"_default": {LastPK: []byte(`"k7"`), Rows: 7}}},
		{ID: 3, DB: "d", Name: "a", Done: true, Parts: map[string]*PartCursor{"_default": {LastPK: []byte(`12`), Rows: 12, Done: true}}},
	}}
	b, err := EncodeCheckpoint(CheckpointState{Positions: map[string][]byte{"ch": []byte(EarliestPosition)}, Snapshot: snap})
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ := ParseCheckpoint(b); sc.Version != CheckpointVersionSnapshot {
		t.Fatalf("an unfinished copy stored as version %d", sc.Version)
	}
	st, err := DecodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Snapshot.Collection(9); c == nil || string(c.Parts["_default"].LastPK) != `"k7"` {
		t.Fatalf("collection 9 after a round trip: %+v", c)
	}
	if total, done, rows := st.Snapshot.Progress(); total != 2 || done != 1 || rows != 19 {
		t.Fatalf("progress %d/%d, %d rows", done, total, rows)
	}
	st.Snapshot.State = SnapshotDone
	b, _ = EncodeCheckpoint(st)
	if sc, _ := ParseCheckpoint(b); sc.Version != CheckpointVersion {
		t.Fatalf("a finished copy stored as version %d", sc.Version)
	}
}
