package verify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// loadRecorder is one side of a comparison that must not touch its load
// state: each load or release call is recorded (the test fails on any).
type loadRecorder struct {
	client.Client
	mu    sync.Mutex
	calls []string
}

func (f *loadRecorder) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *loadRecorder) LoadCollection(context.Context, string, bool, ...client.LoadCollectionOption) error {
	f.record("LoadCollection")
	return nil
}

func (f *loadRecorder) LoadPartitions(context.Context, string, []string, bool, ...client.LoadPartitionsOption) error {
	f.record("LoadPartitions")
	return nil
}

func (f *loadRecorder) ReleaseCollection(context.Context, string, ...client.ReleaseCollectionOption) error {
	f.record("ReleaseCollection")
	return nil
}

func (f *loadRecorder) ReleasePartitions(context.Context, string, []string, ...client.ReleasePartitionsOption) error {
	f.record("ReleasePartitions")
	return nil
}

func (f *loadRecorder) GetCollectionStatistics(context.Context, string) (map[string]string, error) {
	return map[string]string{"row_count": "0"}, nil
}

// TestTargetNotLoadedWhileSourceIs: a copy the source has loaded and the
// target not (yet) is not loaded temporarily on the target. The
// replication's own load of it (a snapshot's copy ends with it) arriving
// while the comparison runs is a no-op on a loaded collection, and the
// release after the comparison would leave the copy not loaded for good.
func TestTargetNotLoadedWhileSourceIs(t *testing.T) {
	loaded := entity.LoadStateLoaded
	for _, tc := range []struct {
		name         string
		sLoad, tLoad loadInfo
		parts        []string
		wantNote     string
	}{
		{
			name:     "collection",
			sLoad:    loadInfo{coll: loaded, parts: map[string]entity.LoadState{"_default": loaded}},
			tLoad:    loadInfo{coll: entity.LoadStateNotLoad, parts: map[string]entity.LoadState{"_default": entity.LoadStateNotLoad}},
			parts:    []string{"_default"},
			wantNote: "target not loaded while the source is",
		},
		{
			name:     "partition-key collection",
			sLoad:    loadInfo{coll: loaded, parts: map[string]entity.LoadState{}},
			tLoad:    loadInfo{coll: entity.LoadStateNotLoad, parts: map[string]entity.LoadState{}},
			wantNote: "target not loaded while the source is",
		},
		{
			name:     "partition",
			sLoad:    loadInfo{coll: loaded, parts: map[string]entity.LoadState{"_default": loaded, "p1": loaded}},
			tLoad:    loadInfo{coll: loaded, parts: map[string]entity.LoadState{"_default": loaded, "p1": entity.LoadStateNotLoad}},
			parts:    []string{"_default", "p1"},
			wantNote: `target partition "p1" not loaded while the source is`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{}
			src, tgt := &loadRecorder{}, &loadRecorder{}
			v := &verifier{opts: Options{KeysPerQuery: 1000, RowsPerFetch: 1000, LoadTimeout: time.Second, Logf: t.Logf}, rep: rep,
				src: &side{name: "source", clients: map[string]client.Client{"d": src}},
				tgt: &side{name: "target", clients: map[string]client.Client{"d": tgt}}}
			coll := &entity.Collection{Schema: fakeSchema}
			j := &rowJob{
				pair: dbPair{src: "d", tgt: "d"}, name: "c",
				cd:  &collDiffs{rep: rep, db: "d", coll: "c", max: -1},
				sum: &CollectionSummary{}, sColl: coll, tColl: coll, sLoad: tc.sLoad, tLoad: tc.tLoad,
				parts: tc.parts, byPartition: len(tc.parts) > 0,
			}
			if err := v.compareRows(context.Background(), j); err != nil {
				t.Fatalf("compareRows: %v", err)
			}
			if len(tgt.calls) > 0 || len(src.calls) > 0 {
				t.Errorf("load state touched: target %v, source %v", tgt.calls, src.calls)
			}
			var notes []string
			for _, n := range rep.Notes {
				notes = append(notes, n.Detail)
			}
			if !strings.Contains(strings.Join(notes, "\n"), "rows not compared: "+tc.wantNote) {
				t.Errorf("notes %q, want one saying %q", notes, tc.wantNote)
			}
			if j.sum.RowsChecked {
				t.Error("rows marked checked")
			}
		})
	}
}
