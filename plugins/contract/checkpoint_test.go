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
	for _, bad := range []string{"", "{", `{"version":2,"channels":{}}`, `{"version":1,"channels":{"a":"%%%"}}`,
		`{"version":1,"channels":{},"acked":{"a":["earliest"]}}`, `{"version":1,"channels":{},"acked":{"a":["%%"]}}`} {
		if _, err := DecodeCheckpoint([]byte(bad)); err == nil {
			t.Errorf("checkpoint %q accepted", bad)
		}
	}
}
