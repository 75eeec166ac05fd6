package order

import (
	"context"
	"time"
)

// endTiming derives how often a silent channel asks its log whether it was
// read to the end (every), how long one question may take (timeout), and how
// long an answer counts (valid). An answer outlives the next question, so a
// healthy unused channel stays idle; a reader that gets stuck after an answer
// holds the merge back again within valid, whether its next question fails,
// times out or never comes.
func endTiming(idleAfter time.Duration) (every, timeout, valid time.Duration) {
	every = min(max(idleAfter/2, 100*time.Millisecond), time.Second)
	return every, 2 * every, 2 * every
}

// idleLocked reports whether the ticking channel c no longer blocks the
// merge: silent for idleAfter, its reader not handling a message, and
// recently confirmed to be at the end of its log. Silence alone is no proof:
// a reader that is reconnecting or backing off is silent too, and the
// messages it has not read yet may carry timestamps the merge must not pass.
func (m *Merger) idleLocked(c *chanState, now time.Time) bool {
	return !c.busy && now.Sub(c.lastSeen) >= m.idleAfter &&
		!c.endAt.IsZero() && now.Sub(c.endAt) < m.endValid
}

// SetAtEnd records whether channel ch is known to have been read to the end
// of its log (nothing follows its last message). Any message of the channel,
// and its reader turning busy, clears it.
func (m *Merger) SetAtEnd(ch int, atEnd bool) {
	m.mu.Lock()
	c := m.chans[ch]
	if atEnd {
		c.endAt = m.now()
	} else {
		c.endAt = time.Time{}
	}
	m.mu.Unlock()
	if atEnd {
		m.signal()
	}
}

// WatchEnd starts asking, while ticking channel ch is silent and its reader
// not busy, whether the channel was read to the end of its log: atEnd
// reports whether nothing follows pos (the last position the merge took from
// the channel) and must return when its ctx ends. It asks every endEvery,
// each question bounded by endTimeout; a yes counts for endValid, a no, an
// error or a timeout clears it. The returned stop ends the watch and waits
// for it; it does not wait for a question the log leaves unanswered.
func (m *Merger) WatchEnd(ctx context.Context, ch int, atEnd func(ctx context.Context, pos []byte) (bool, error)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !m.chans[ch].ticking {
			return // never blocks the merge
		}
		t := time.NewTicker(m.endEvery)
		defer t.Stop()
		for {
			m.checkEnd(ctx, ch, atEnd)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// checkEnd asks once, if channel ch is due (see WatchEnd).
func (m *Merger) checkEnd(ctx context.Context, ch int, atEnd func(ctx context.Context, pos []byte) (bool, error)) {
	m.mu.Lock()
	c := m.chans[ch]
	asked := m.now()
	// From half the idle timeout on, so that a healthy unused channel is
	// confirmed by the time its silence makes it idle.
	due := !m.closed && !c.busy && asked.Sub(c.lastSeen) >= m.idleAfter/2
	pos, gen := c.lastPos, c.gen
	m.mu.Unlock()
	if !due {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, m.endTimeout)
	yes, err := atEnd(qctx, pos)
	cancel()
	yes = yes && err == nil
	m.mu.Lock()
	// A message or a busy reader overtook the answer: it is about an older
	// position and says nothing; the next question will tell.
	if c.gen == gen {
		if yes {
			c.endAt = asked // counts from the question: no later than the log's answer
		} else {
			c.endAt = time.Time{}
		}
	}
	m.mu.Unlock()
	if yes {
		m.signal()
	}
}
