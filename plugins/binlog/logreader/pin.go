package logreader

import (
	"context"
	"fmt"
)

// Pin returns where each of channels ends now in log: a first checkpoint's
// positions, so reading starts after every message written so far. It
// gives up when ctx ends (the log's calls may take no context: they go on
// in the background and their answer is dropped); release is called once
// they are over, when log may be closed.
func Pin(ctx context.Context, log Log, channels []string, release func()) (map[string][]byte, error) {
	type result struct {
		pos map[string][]byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer release()
		pos := make(map[string][]byte, len(channels))
		for _, ch := range channels {
			b, err := log.Newest(ch)
			if err != nil {
				done <- result{err: fmt.Errorf("channel %s: %w", ch, err)}
				return
			}
			pos[ch] = b
		}
		done <- result{pos: pos}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-done:
		return r.pos, r.err
	}
}
