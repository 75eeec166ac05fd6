package sourcemeta

import (
	"context"
	"testing"
	"time"
)

type fakeImports []Import

func (f *fakeImports) Imports(context.Context, string) ([]Import, error) { return *f, nil }

func TestImportWatchReportsEachNewImportOnce(t *testing.T) {
	start := time.Unix(1000, 0)
	src := &fakeImports{{ID: 1, CollectionID: 7, CreatedUnix: 900, State: "ImportCompleted"}}
	w := NewImportWatch(src, start, time.Second)
	now := start
	w.now = func() time.Time { return now }
	if got, _ := w.Check(context.Background()); len(got) != 0 {
		t.Fatalf("an import older than the run was reported: %+v", got)
	}
	*src = append(*src, Import{ID: 2, CollectionID: 7, CreatedUnix: 1001, State: "ImportPending"},
		Import{ID: 3, CollectionID: 7, CreatedUnix: 1001, State: "ImportFailed"})
	if got, _ := w.Check(context.Background()); len(got) != 0 {
		t.Fatal("checked again before the interval")
	}
	now = now.Add(time.Second)
	got, err := w.Check(context.Background())
	if err != nil || len(got) != 1 || got[0].ID != 2 {
		t.Fatalf("got %+v, %v; want import 2 only (3 failed, 1 is older)", got, err)
	}
	now = now.Add(time.Second)
	if got, _ := w.Check(context.Background()); len(got) != 0 {
		t.Fatalf("import reported twice: %+v", got)
	}
}
