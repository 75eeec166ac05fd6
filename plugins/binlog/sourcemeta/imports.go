package sourcemeta

import (
	"context"
	"sync"
	"time"
)

// ImportLister lists the source's bulk imports.
type ImportLister interface {
	Imports(ctx context.Context, db string) ([]Import, error)
}

// ImportWatch finds bulk imports the source ran while this input reads. A
// bulk import writes segments straight to storage and bypasses the WAL, so
// it cannot be replicated: it must be reported, never passed over. Shared
// by every channel; each import is returned once.
type ImportWatch struct {
	mu    sync.Mutex
	src   ImportLister
	since int64 // unix seconds: imports created earlier are not this run's
	every time.Duration
	now   func() time.Time
	last  time.Time
	seen  map[int64]bool
}

// NewImportWatch reports imports created at or after since, asking src at
// most every `every`.
func NewImportWatch(src ImportLister, since time.Time, every time.Duration) *ImportWatch {
	return &ImportWatch{src: src, since: since.Unix(), every: every, now: time.Now, seen: map[int64]bool{}}
}

// Check returns the imports not returned before (none when a check ran
// less than `every` ago). A failed import wrote nothing and is left out.
func (w *ImportWatch) Check(ctx context.Context) ([]Import, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.now().Sub(w.last) < w.every {
		return nil, nil
	}
	w.last = w.now()
	// Milvus 2.3.5 lists the imports of every database whatever the request names.
	all, err := w.src.Imports(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Import
	for _, imp := range all {
		if w.seen[imp.ID] || imp.CreatedUnix < w.since {
			continue
		}
		w.seen[imp.ID] = true
		if imp.State != "ImportFailed" {
			out = append(out, imp)
		}
	}
	return out, nil
}
