// Package backoff is the retry wait of the input's stages (log reads, source
// queries): exponential from 100 ms, doubling up to about 5 s.
package backoff

import (
	"context"
	"time"
)

// Backoff is a small exponential backoff for one retry loop.
type Backoff struct{ cur time.Duration }

// New returns a backoff whose first wait is 100 ms.
func New() *Backoff { return &Backoff{} }

// Reset makes the next wait the first again.
func (b *Backoff) Reset() { b.cur = 0 }

// Wait sleeps for the next interval; false when ctx ended first.
func (b *Backoff) Wait(ctx context.Context) bool {
	switch {
	case b.cur == 0:
		b.cur = 100 * time.Millisecond
	case b.cur < 5*time.Second:
		b.cur *= 2
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
