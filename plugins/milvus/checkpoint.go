package milvus

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// checkpointVersion is stored with every checkpoint so a future format can
// tell old ones apart.
const checkpointVersion = 1

// storedCheckpoint is the JSON value kept under checkpoint_key. Channels
// holds, per channel (topic short name), the position of the last message
// read whose every predecessor was acknowledged: reading resumes after it.
// Acked lists messages beyond that position that the output acknowledged out
// of order: a restart skips them instead of delivering them twice.
type storedCheckpoint struct {
	Version     int                      `json:"version"`
	Channels    map[string]string        `json:"channels"`
	Acked       map[string][]string      `json:"acked,omitempty"`
	Collections map[string]collectionRef `json:"collections,omitempty"` // collection ID → names (see knownNames)
}

// checkpointState is a decoded checkpoint; positions are serialized Pulsar
// message IDs or earliestPos.
type checkpointState struct {
	pos   map[string][]byte
	acked map[string][][]byte
	names map[int64]collectionRef
}

// earliestPos is the position of a channel on which nothing was read yet
// and that had nothing before the reader started: resume at its beginning.
const earliestPos = "earliest"

func encodePosition(id []byte) string {
	if string(id) == earliestPos {
		return earliestPos
	}
	return base64.StdEncoding.EncodeToString(id)
}

func decodePosition(s string) ([]byte, error) {
	if s == earliestPos {
		return []byte(earliestPos), nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func encodeCheckpoint(st checkpointState) ([]byte, error) {
	sc := storedCheckpoint{Version: checkpointVersion, Channels: make(map[string]string, len(st.pos))}
	for ch, id := range st.pos {
		sc.Channels[ch] = encodePosition(id)
	}
	for ch, ids := range st.acked {
		if len(ids) == 0 {
			continue
		}
		if sc.Acked == nil {
			sc.Acked = map[string][]string{}
		}
		enc := make([]string, len(ids))
		for i, id := range ids {
			enc[i] = encodePosition(id)
		}
		sort.Strings(enc) // stable bytes: an unchanged state is not written again
		sc.Acked[ch] = enc
	}
	for id, ref := range st.names {
		if sc.Collections == nil {
			sc.Collections = map[string]collectionRef{}
		}
		sc.Collections[strconv.FormatInt(id, 10)] = ref
	}
	return json.Marshal(sc)
}

func decodeCheckpoint(b []byte) (checkpointState, error) {
	var sc storedCheckpoint
	if err := json.Unmarshal(b, &sc); err != nil {
		return checkpointState{}, fmt.Errorf("stored checkpoint is not valid JSON: %w", err)
	}
	if sc.Version != checkpointVersion {
		return checkpointState{}, fmt.Errorf("stored checkpoint has version %d, this build reads version %d", sc.Version, checkpointVersion)
	}
	st := checkpointState{pos: make(map[string][]byte, len(sc.Channels))}
	for ch, s := range sc.Channels {
		id, err := decodePosition(s)
		if err != nil {
			return checkpointState{}, fmt.Errorf("stored checkpoint of channel %s: %w", ch, err)
		}
		st.pos[ch] = id
	}
	for ch, list := range sc.Acked {
		for _, s := range list {
			id, err := decodePosition(s)
			if err != nil || string(id) == earliestPos {
				return checkpointState{}, fmt.Errorf("stored checkpoint lists an invalid acknowledged message on channel %s", ch)
			}
			if st.acked == nil {
				st.acked = map[string][][]byte{}
			}
			st.acked[ch] = append(st.acked[ch], id)
		}
	}
	for id, ref := range sc.Collections {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || ref.Name == "" {
			return checkpointState{}, fmt.Errorf("stored checkpoint names an invalid collection %q", id)
		}
		if st.names == nil {
			st.names = map[int64]collectionRef{}
		}
		st.names[n] = ref
	}
	return st, nil
}

// checkpointer writes, after each acknowledgement, the resume positions and
// the messages acknowledged beyond them to the cache.
type checkpointer struct {
	res     *service.Resources
	cache   string // empty: checkpoints are not stored
	key     string
	tracker *ackTracker
	names   *knownNames // nil: no names stored

	mu     sync.Mutex // held while writing, so writes never land out of order
	failed error      // set after a nack without replay: no checkpoint may pass it
	pos    map[string][]byte
	carry  map[string][][]byte // acknowledged-ahead messages of the previous run, not yet passed
	last   []byte              // what was written last
}

func newCheckpointer(res *service.Resources, cache, key string, limit int) *checkpointer {
	return &checkpointer{res: res, cache: cache, key: key, tracker: newAckTracker(limit)}
}

// load reads the stored checkpoint; nil when none is stored.
func (c *checkpointer) load(ctx context.Context) (*checkpointState, error) {
	if c.cache == "" {
		return nil, nil
	}
	var raw []byte
	var getErr error
	err := c.res.AccessCache(ctx, c.cache, func(cache service.Cache) {
		raw, getErr = cache.Get(ctx, c.key)
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint cache %q: %w", c.cache, err)
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return nil, nil
	}
	if getErr != nil {
		return nil, fmt.Errorf("read checkpoint %q from cache %q: %w", c.key, c.cache, getErr)
	}
	st, err := decodeCheckpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q in cache %q: %w", c.key, c.cache, err)
	}
	c.mu.Lock()
	c.carry, c.last = st.acked, raw
	c.mu.Unlock()
	return &st, nil
}

// setBase records where every channel starts, so that a checkpoint written
// before the first batch is fully acknowledged still names every channel.
func (c *checkpointer) setBase(pos map[string][]byte) {
	c.mu.Lock()
	c.pos = pos
	c.mu.Unlock()
}

// storeBase writes the start positions as the first checkpoint.
func (c *checkpointer) storeBase(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storeLocked(ctx, nil)
}

// track registers a batch of n messages ending at positions pos and holding
// the WAL messages ids. It blocks while checkpoint_limit messages are in
// flight. The returned func must be called with the output's result.
func (c *checkpointer) track(ctx context.Context, pos map[string][]byte, ids map[string][][]byte, n int) (func(context.Context, error) error, error) {
	b, err := c.tracker.add(ctx, n, pos, ids)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ackErr error) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ackErr != nil {
			// Without auto replay the batch is dropped: stop checkpointing so a
			// restart reads it again.
			if c.failed == nil {
				c.failed = fmt.Errorf("a batch was rejected by the output and not replayed (%w); checkpoints are frozen until restart", ackErr)
			}
			return nil
		}
		resume, ahead := c.tracker.ack(b)
		if c.failed != nil {
			return nil
		}
		if resume != nil {
			merged := make(map[string][]byte, len(c.pos)+len(resume))
			for ch, p := range c.pos {
				merged[ch] = p
			}
			for ch, p := range resume {
				merged[ch] = p
			}
			c.pos = merged
		}
		return c.storeLocked(ctx, ahead)
	}, nil
}

// storeLocked writes the current positions with the acknowledged-ahead
// messages of this run and those of the previous run not yet passed.
func (c *checkpointer) storeLocked(ctx context.Context, ahead map[string][][]byte) error {
	if c.cache == "" || len(c.pos) == 0 {
		return nil
	}
	acked := map[string][][]byte{}
	for ch, ids := range ahead {
		acked[ch] = append(acked[ch], ids...)
	}
	for ch, ids := range c.carry {
		kept := ids[:0:0]
		base, err := keyOfPosition(c.pos[ch])
		for _, id := range ids {
			k, kerr := keyOfPosition(id)
			if err != nil || kerr != nil || k.after(base) {
				kept = append(kept, id)
			}
		}
		if len(kept) == 0 {
			delete(c.carry, ch)
			continue
		}
		c.carry[ch] = kept
		acked[ch] = append(acked[ch], kept...)
	}
	st := checkpointState{pos: c.pos, acked: acked}
	if c.names != nil {
		st.names = c.names.snapshot(c.pos)
	}
	b, err := encodeCheckpoint(st)
	if err != nil {
		return err
	}
	if bytes.Equal(b, c.last) {
		return nil
	}
	var setErr error
	if err := c.res.AccessCache(ctx, c.cache, func(cache service.Cache) {
		setErr = cache.Set(ctx, c.key, b, nil)
	}); err != nil {
		return fmt.Errorf("checkpoint cache %q: %w", c.cache, err)
	}
	if setErr != nil {
		return fmt.Errorf("write checkpoint %q to cache %q: %w", c.key, c.cache, setErr)
	}
	c.last = b
	return nil
}
