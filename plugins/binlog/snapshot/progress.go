package snapshot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Estimator gives a collection's approximate row count (for the ETA only).
type Estimator interface {
	RowEstimate(ctx context.Context, db, coll string) (int64, error)
}

// progress counts the rows copied in this run, per collection being copied.
type progress struct {
	mu     sync.Mutex
	total  int64
	active map[int64]*collProgress
}

type collProgress struct {
	name             string
	copied, estimate int64 // estimate < 0: unknown
}

// begin starts counting collection c (its copied rows so far included).
func (p *progress) begin(ctx context.Context, src any, c *contract.SnapshotCollection) {
	est := int64(-1)
	if e, ok := src.(Estimator); ok {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if n, err := e.RowEstimate(ectx, c.DB, c.Name); err == nil {
			est = n
		}
		cancel()
	}
	var done int64
	for _, cur := range c.Parts {
		done += cur.Rows
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active == nil {
		p.active = map[int64]*collProgress{}
	}
	p.active[c.ID] = &collProgress{name: c.DB + "." + c.Name, copied: done, estimate: est}
}

func (p *progress) end(id int64) {
	p.mu.Lock()
	delete(p.active, id)
	p.mu.Unlock()
}

func (p *progress) add(id int64, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	if c := p.active[id]; c != nil {
		c.copied += n
	}
}

func (p *progress) get() int64 { p.mu.Lock(); defer p.mu.Unlock(); return p.total }

// line describes the collections being copied at rate rows/s.
func (p *progress) line(rate float64) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(p.active)) {
		c := p.active[id]
		switch {
		case c.estimate < 0:
			parts = append(parts, fmt.Sprintf("%s %d rows", c.name, c.copied))
		case rate > 0 && c.estimate > c.copied:
			eta := time.Duration(float64(c.estimate-c.copied) / rate * float64(time.Second)).Round(time.Second)
			parts = append(parts, fmt.Sprintf("%s %d of ~%d rows (ETA %s)", c.name, c.copied, c.estimate, eta))
		default:
			parts = append(parts, fmt.Sprintf("%s %d of ~%d rows", c.name, c.copied, c.estimate))
		}
	}
	return strings.Join(parts, ", ")
}

// logProgress logs the copy's progress every 5 s until the returned func is
// called: per collection being copied the rows copied, of about how many,
// and when it should be done at the current rate.
func (r *Runner) logProgress(ctx context.Context) func() {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		start, last, lastAt := time.Now(), r.rows.get(), time.Now()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case now := <-t.C:
				n := r.rows.get()
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				last, lastAt = n, now
				r.log.Infof("Snapshot: %d rows copied in %s (%.0f rows/s now); %s", n, now.Sub(start).Round(time.Second), rate, r.rows.line(rate))
			}
		}
	}()
	return func() { close(stop) }
}
