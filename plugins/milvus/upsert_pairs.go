package milvus

import (
	"context"
	"time"
)

// Broken upserts. Milvus 2.3 writes an upsert as an Insert and a Delete of
// the same keys and timestamp. When Pulsar fails between the two (seen when
// it was stopped under load), the Insert is in the WAL, the Delete never is,
// and the call fails: the source then holds the new rows beside the old ones
// (count(*) counts both, a query returns one of them). The target cannot
// hold a key twice, so it takes what the source answers for those keys.
//
// The Delete is known to be lost once the channel ticks at or beyond the
// upsert's timestamp: Milvus ticks past a write only after all its messages
// are out.

// unpairedInsert is an upsert's Insert whose Delete was not read yet.
type unpairedInsert struct{ ev walEvent }

// trackUpsert notes an upsert's Insert (ev as read, before any repair) or
// clears the one a Delete completes.
func (c *channelReader) trackUpsert(ev *walEvent) {
	switch {
	case isUpsertInsert(ev):
		c.unpaired = append(c.unpaired, unpairedInsert{ev: *ev})
	case ev.Op == OpDelete:
		kept := c.unpaired[:0]
		for _, u := range c.unpaired {
			if u.ev.Ts != ev.Ts || u.ev.CollectionID != ev.CollectionID {
				kept = append(kept, u)
			}
		}
		c.unpaired = kept
	}
}

// brokenUpserts handles a time tick: every upsert Insert at or before it
// whose Delete did not come is replaced on the target by the source's rows
// for its keys, at the tick's timestamp and position. It returns false when
// the merger closed.
func (c *channelReader) brokenUpserts(ctx context.Context, tickTs uint64, pos []byte) bool {
	kept := c.unpaired[:0]
	var broken []unpairedInsert
	for _, u := range c.unpaired {
		if u.ev.Ts <= tickTs {
			broken = append(broken, u)
		} else {
			kept = append(kept, u)
		}
	}
	c.unpaired = kept
	for _, u := range broken {
		c.log.Warnf("Channel %s: the upsert of %d rows in %s.%s at timestamp %d has no Delete in the WAL (its call failed half-way, e.g. during a Pulsar outage); "+
			"the source may now hold those keys twice, so the target takes the rows the source returns for them",
			c.name, u.ev.Rows, u.ev.DbName, u.ev.CollectionName, u.ev.Ts)
		// The Insert itself need not wait for its Delete any longer.
		c.merge.pairBroken(c.idx, u.ev.Ts, u.ev.CollectionID)
		at := u.ev
		at.Ts, at.BaseTs, at.Position, at.Channel = tickTs, tickTs, pos, c.name
		evs, err := c.repairWithRetry(ctx, &at)
		if err != nil {
			continue // logged; the Insert stays applied as written
		}
		for _, e := range evs {
			if !c.merge.pushEvent(c.idx, e) {
				return false
			}
		}
	}
	return true
}

// pairBroken stops holding the upsert Inserts of collection coll at ts on
// channel ch: their Delete will not come.
func (m *merger) pairBroken(ch int, ts uint64, coll int64) {
	m.mu.Lock()
	for _, ev := range m.chans[ch].queue {
		if isUpsertInsert(ev) && ev.Ts == ts && ev.CollectionID == coll {
			ev.queuedAt = time.Time{}
		}
	}
	m.mu.Unlock()
	m.signal()
}
