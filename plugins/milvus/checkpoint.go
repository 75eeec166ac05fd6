package milvus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/Jeffail/checkpoint"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// checkpointVersion is stored with every checkpoint so a future format can
// tell old ones apart.
const checkpointVersion = 1

// storedCheckpoint is the JSON value kept under checkpoint_key: for each
// channel (topic short name), the position of the last message that was read
// and whose every predecessor was acknowledged. Reading resumes after it.
type storedCheckpoint struct {
	Version  int               `json:"version"`
	Channels map[string]string `json:"channels"` // base64 pulsar MessageID
}

// earliestPos is the position of a channel on which nothing was read yet
// and that had nothing before the reader started: resume at its beginning.
const earliestPos = "earliest"

func encodeCheckpoint(pos map[string][]byte) ([]byte, error) {
	sc := storedCheckpoint{Version: checkpointVersion, Channels: make(map[string]string, len(pos))}
	for ch, id := range pos {
		if string(id) == earliestPos {
			sc.Channels[ch] = earliestPos
			continue
		}
		sc.Channels[ch] = base64.StdEncoding.EncodeToString(id)
	}
	return json.Marshal(sc)
}

func decodeCheckpoint(b []byte) (map[string][]byte, error) {
	var sc storedCheckpoint
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("stored checkpoint is not valid JSON: %w", err)
	}
	if sc.Version != checkpointVersion {
		return nil, fmt.Errorf("stored checkpoint has version %d, this build reads version %d", sc.Version, checkpointVersion)
	}
	out := make(map[string][]byte, len(sc.Channels))
	for ch, s := range sc.Channels {
		if s == earliestPos {
			out[ch] = []byte(earliestPos)
			continue
		}
		id, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("stored checkpoint of channel %s: %w", ch, err)
		}
		out[ch] = id
	}
	return out, nil
}

// checkpointer tracks in-flight batches and writes the positions of the
// highest batch whose predecessors are all acknowledged to the cache.
type checkpointer struct {
	res     *service.Resources
	cache   string // empty: checkpoints are not stored
	key     string
	tracker *checkpoint.Capped[map[string][]byte]

	mu       sync.Mutex
	failed   error // set after a nack without replay: no checkpoint may pass it
	lastSave *map[string][]byte
}

func newCheckpointer(res *service.Resources, cache, key string, limit int) *checkpointer {
	return &checkpointer{res: res, cache: cache, key: key, tracker: checkpoint.NewCapped[map[string][]byte](int64(limit))}
}

// load reads the stored positions; nil when none are stored.
func (c *checkpointer) load(ctx context.Context) (map[string][]byte, error) {
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
	return decodeCheckpoint(raw)
}

// track registers a batch of n messages that ends at positions pos. It blocks
// while checkpoint_limit messages are in flight. The returned func must be
// called with the output's result.
func (c *checkpointer) track(ctx context.Context, pos map[string][]byte, n int) (func(context.Context, error) error, error) {
	release, err := c.tracker.Track(ctx, pos, int64(n))
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
		highest := release()
		if c.failed != nil || highest == nil || highest == c.lastSave {
			return nil
		}
		if err := c.store(ctx, *highest); err != nil {
			return err
		}
		c.lastSave = highest
		return nil
	}, nil
}

func (c *checkpointer) store(ctx context.Context, pos map[string][]byte) error {
	if c.cache == "" || len(pos) == 0 {
		return nil
	}
	b, err := encodeCheckpoint(pos)
	if err != nil {
		return err
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
	return nil
}
