package logreader

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/pulsar-client-go/pulsar"
)

// EndChecker is a Channel that can tell whether it has been read to the end
// of its log. The merge takes a silent channel for unused only once this
// confirms it: a reader that is reconnecting blocks in Next without an error,
// so silence alone does not tell an unused channel from a stuck one. A
// Channel without it never counts as unused once silent.
type EndChecker interface {
	// AtEnd reports whether no message of the channel follows pos (a
	// Position read from it, or Start()), asking the log. An error (ctx's
	// included) means "not known": the caller must not take it for true.
	// It returns when ctx ends.
	AtEnd(ctx context.Context, pos []byte) (bool, error)
}

// errCheckPending: the previous question to the broker is still unanswered.
var errCheckPending = errors.New("the previous last-message-id request is still unanswered")

// endCheck asks the broker for a topic's newest message through the
// channel's own reader, one request at a time.
//
// pulsar-client-go's GetLastMessageID takes no context: it queues the request
// behind whatever the consumer's event loop does (a reconnect can take
// minutes) and retries failures for up to the client's operation timeout.
// The call therefore runs in its own goroutine and the caller waits only
// until its ctx ends; while that call is unanswered no second one is queued,
// and the answer is "not known".
type endCheck struct {
	reader  lastIDReader
	mu      sync.Mutex
	pending bool
}

// lastIDReader is the part of a pulsar.Reader endCheck uses.
type lastIDReader interface {
	GetLastMessageID() (pulsar.MessageID, error)
}

func (e *endCheck) atEnd(ctx context.Context, pos []byte) (bool, error) {
	read, err := pulsarKeyOf(pos)
	if err != nil {
		return false, fmt.Errorf("position %x: %w", pos, err)
	}
	last, err := e.lastID(ctx)
	if err != nil {
		return false, err
	}
	return noneAfter(keyOf(last), read), nil
}

func (e *endCheck) lastID(ctx context.Context) (pulsar.MessageID, error) {
	e.mu.Lock()
	if e.pending {
		e.mu.Unlock()
		return nil, errCheckPending
	}
	e.pending = true
	e.mu.Unlock()
	type answer struct {
		id  pulsar.MessageID
		err error
	}
	got := make(chan answer, 1) // never blocks the call's goroutine
	go func() {
		id, err := e.reader.GetLastMessageID()
		e.mu.Lock()
		e.pending = false
		e.mu.Unlock()
		got <- answer{id, err}
	}()
	select {
	case a := <-got:
		if a.err != nil {
			return nil, fmt.Errorf("last message id: %w", a.err)
		}
		return a.id, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("last message id: %w", ctx.Err())
	}
}

// noneAfter reports whether the topic's newest message last is not after
// read. A last with a negative entry means the topic holds no message (never
// written, or everything removed by retention): nothing is left to read.
// Batch indexes compare only when the broker gave one (Key.After: a -1 is
// never after).
func noneAfter(last, read pulsarKey) bool {
	if last.ledger < 0 || last.entry < 0 {
		return true
	}
	return !last.After(read)
}
