package snapshot

import (
	"context"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

type fixedEstimate int64

func (f fixedEstimate) RowEstimate(context.Context, string, string) (int64, error) {
	return int64(f), nil
}

// TestProgressLine: the log names each collection being copied, its rows
// copied (what earlier runs copied included), about how many it holds and
// the time left at the current rate.
func TestProgressLine(t *testing.T) {
	var p progress
	p.begin(context.Background(), fixedEstimate(10000), &contract.SnapshotCollection{ID: 1, DB: "db", Name: "c",
		Parts: map[string]*contract.PartCursor{"_default": {Rows: 4000}}})
	p.add(1, 1000)
	if got := p.line(500); !strings.Contains(got, "db.c 5000 of ~10000 rows (ETA 10s)") {
		t.Fatalf("line %q", got)
	}
	if p.get() != 1000 {
		t.Fatalf("rows in this run %d, want 1000", p.get())
	}
	p.end(1)
	if got := p.line(500); got != "" {
		t.Fatalf("line after the end %q", got)
	}
}
