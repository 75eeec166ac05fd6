package main

import (
	"sort"
	"time"
)

// idleAfter mirrors milvus_binlog's default idle_channel_timeout: a channel
// silent this long no longer holds the merge back.
const idleAfter = 2 * time.Second

// walObservation is what the observer saw of the source's WAL.
type walObservation struct {
	ticks   map[int][]tickSeen   // per DML channel, in arrival order
	inserts map[int64]insertSeen // by primary key
	foreign foreignTraffic       // other collections' inserts and deletes
	errs    []error
}

// breakdown splits lags into the part before the source's time ticks could
// release the row and the part after it; with the checkpoint's change times,
// the pipeline's own share: from the message reaching a reader (with
// ordering: key the pipeline writes the row then) to the moment the pipeline
// stored its checkpoint (its call to the target had returned).
type breakdown struct {
	arrived   []time.Duration // insert returned → the insert message reached the observer
	ownTick   []time.Duration // insert returned → its own channel showed a tick >= its timestamp
	released  []time.Duration // insert returned → every ticking channel showed a tick >= its timestamp
	after     []time.Duration // that moment → visible on the target (pipeline read+apply, target visibility)
	pipeline  []time.Duration // message read → checkpoint stored (read, merge, apply call, ack)
	target    []time.Duration // checkpoint stored → visible on the target
	unmatched int             // samples whose insert or covering ticks the observer did not see
}

// split needs one write in flight at a time for the checkpoint part (then
// the first checkpoint change after the release is that write's): pass
// changes only for sequential single inserts, nil otherwise.
func (w *walObservation) split(samples []sample, changes []time.Time) breakdown {
	var b breakdown
	for _, s := range samples {
		ins, ok := w.inserts[s.id]
		if !ok {
			b.unmatched++
			continue
		}
		rel, ok := w.releaseTime(ins)
		if !ok {
			b.unmatched++
			continue
		}
		b.arrived = append(b.arrived, ins.at.Sub(s.t0))
		if own, ok := firstTickAt(w.ticks[ins.channel], ins.ts); ok {
			b.ownTick = append(b.ownTick, own.Sub(s.t0))
		}
		b.released = append(b.released, rel.Sub(s.t0))
		b.after = append(b.after, s.visible.Sub(rel))
		if applied, ok := firstChangeIn(changes, ins.at, s.visible); ok {
			b.pipeline = append(b.pipeline, applied.Sub(ins.at))
			b.target = append(b.target, s.visible.Sub(applied))
		}
	}
	return b
}

// releaseTime is the earliest moment the merge could release ins: when the
// last of the channels that were ticking at the time (and its own channel)
// delivered its first tick at or past the insert's timestamp.
func (w *walObservation) releaseTime(ins insertSeen) (time.Time, bool) {
	rel := ins.at
	for ch, ticks := range w.ticks {
		if ch != ins.channel && !tickedWithin(ticks, ins.at.Add(-idleAfter), ins.at) {
			continue
		}
		at, ok := firstTickAt(ticks, ins.ts)
		if !ok {
			return time.Time{}, false // the observer stopped before that tick
		}
		if at.After(rel) {
			rel = at
		}
	}
	return rel, true
}

// firstTickAt is when the first tick >= ts of one channel arrived. Ticks of
// a channel arrive in timestamp order, so the first by timestamp is also
// the first to arrive.
func firstTickAt(ticks []tickSeen, ts uint64) (time.Time, bool) {
	i := sort.Search(len(ticks), func(i int) bool { return ticks[i].ts >= ts })
	if i == len(ticks) {
		return time.Time{}, false
	}
	return ticks[i].at, true
}

func tickedWithin(ticks []tickSeen, from, to time.Time) bool {
	for _, t := range ticks {
		if !t.at.Before(from) && !t.at.After(to) {
			return true
		}
	}
	return false
}

// tickStats describes the ticks the observer saw: how many channels ticked,
// the gaps between consecutive ticks of a channel, and how old a tick's
// timestamp was when it arrived (a hybrid timestamp's physical part is
// Unix milliseconds in its upper bits).
type tickStats struct {
	channels int
	gaps     summary
	age      summary
}

func (w *walObservation) tickStats() tickStats {
	var ts tickStats
	var gaps, ages []time.Duration
	for _, ticks := range w.ticks {
		if len(ticks) < 2 {
			continue
		}
		ts.channels++
		for i, t := range ticks {
			physical := time.UnixMilli(int64(t.ts >> 18))
			ages = append(ages, t.at.Sub(physical))
			if i > 0 {
				gaps = append(gaps, t.at.Sub(ticks[i-1].at))
			}
		}
	}
	ts.gaps, ts.age = summarize(gaps), summarize(ages)
	return ts
}
