package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// memEvery is how often the pipeline's RSS is sampled: often enough to see
// which phase a peak belongs to, cheap (one read of /proc/<pid>/status).
const memEvery = 100 * time.Millisecond

type memPoint struct {
	at     time.Time
	rssKiB int64
}

// memSeries is the RSS of the pipeline processes over time.
type memSeries struct {
	mu     sync.Mutex
	points []memPoint
}

// sample records pid's VmRSS every memEvery, and its VmHWM into peak,
// until exited is closed.
func (s *memSeries) sample(pid int, exited <-chan struct{}, peak *childPeak) {
	t := time.NewTicker(memEvery)
	defer t.Stop()
	for {
		select {
		case <-exited:
			return
		case now := <-t.C:
			m := memNow(pid)
			peak.note(m.hwm)
			if m.rss >= 0 {
				s.mu.Lock()
				s.points = append(s.points, memPoint{at: now, rssKiB: m.rss})
				s.mu.Unlock()
			}
		}
	}
}

// span is a named stretch of the run.
type span struct {
	name     string
	from, to time.Time
}

// maxIn is the highest sample in [from, to]; -1 when there is none.
func (s *memSeries) maxIn(from, to time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	peak := int64(-1)
	for _, p := range s.points {
		if !p.at.Before(from) && !p.at.After(to) {
			peak = max(peak, p.rssKiB)
		}
	}
	return peak
}

// peak is the highest sample and when it was taken.
func (s *memSeries) peak() memPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := memPoint{rssKiB: -1}
	for _, p := range s.points {
		if p.rssKiB > best.rssKiB {
			best = p
		}
	}
	return best
}

// childRSS is the peak RSS of one pipeline process, two ways.
type childRSS struct {
	// ownKiB: VmHWM of the child's own address space, read from /proc while
	// it runs and until it exits. The figure reported.
	ownKiB int64
	// rusageKiB: ru_maxrss from wait4. Not used as the figure: Go starts
	// children with vfork semantics (CLONE_VM), and on exec Linux folds the
	// peak RSS of the address space being left, the bench's own, into the
	// child's ru_maxrss, so it is at least the bench's RSS at that moment.
	rusageKiB int64
}

// childPeak is the highest VmHWM seen of one child; -1 until one was read.
type childPeak struct{ kib atomic.Int64 }

func newChildPeak() *childPeak {
	c := &childPeak{}
	c.kib.Store(-1)
	return c
}

func (c *childPeak) note(kib int64) {
	for {
		old := c.kib.Load()
		if kib <= old || c.kib.CompareAndSwap(old, kib) {
			return
		}
	}
}

func (c *childPeak) get() int64 { return c.kib.Load() }

// trackUntilExit reads pid's VmHWM every 2 ms until it has exited (or its
// memory is gone: a zombie's status has no VmHWM), so the shutdown after
// SIGTERM counts too.
func (c *childPeak) trackUntilExit(pid int, exited <-chan struct{}) {
	for {
		select {
		case <-exited:
			return
		default:
		}
		m := memNow(pid)
		if m.hwm < 0 {
			return
		}
		c.note(m.hwm)
		time.Sleep(2 * time.Millisecond)
	}
}

// memSnapshot is a running child's memory in KiB (-1 = unknown).
type memSnapshot struct{ hwm, rss, anon, file int64 }

// memory reads the running child's memory now: anon (heap, stacks, C
// allocations) against file-backed (the mapped executable) tells what a
// peak is made of.
func (p *pipeline) memory() memSnapshot {
	if p.cmd == nil || p.cmd.Process == nil {
		return memSnapshot{hwm: -1, rss: -1, anon: -1, file: -1}
	}
	return memNow(p.cmd.Process.Pid)
}
