// Package logreader reads a source's write-ahead log: one ordered stream of
// raw messages per channel, behind a small interface (Log, Channel). Pulsar
// is the only log today; a Kafka reader would be a second implementation
// here. A reader owns the transport's traps: where to start, checking that a
// stored position still exists, re-deliveries after a reconnect, retries.
package logreader

import (
	"context"
	"errors"
	"time"
)

// Log opens the channels of one source WAL.
type Log interface {
	Open(ctx context.Context, o OpenOptions) (Channel, error)
	// Positions orders this log's positions (opaque above this package).
	Positions() Positions
	// Newest is the position of channel name's newest message now
	// (contract.EarliestPosition when it holds none).
	Newest(name string) ([]byte, error)
	// Closing says a teardown has begun: errors of channels closed from now
	// on are expected and need not alarm an operator.
	Closing()
	// Close closes the log and every channel still open.
	Close()
}

// OpenOptions says which channel to open and where.
type OpenOptions struct {
	Name string // short channel name (contract.Topics)
	// From is a stored position: reading resumes after it. nil: start at
	// the beginning, or after the newest message with Latest.
	From   []byte
	Latest bool
}

// Channel is one channel of the log, read by one goroutine.
type Channel interface {
	// Start is where this channel's reading begins, to checkpoint before
	// anything was read: From, or the pinned start (never nil).
	Start() []byte
	// Empty reports whether the channel held no message when it opened.
	Empty() bool
	// Next blocks for the next message. It retries transport failures
	// itself; it returns only ctx's error or a *FatalError.
	Next(ctx context.Context) (Message, error)
	Close()
}

// Kind tells data from the marks a channel reports.
type Kind int

const (
	// Data is a message to decode.
	Data Kind = iota
	// StartMark is the stored start message, read again to check the log
	// still has it: not data.
	StartMark
	// Repeat is a message read before (re-delivered after a reconnect) and
	// dropped: not data, but the reader above learns of the reconnect.
	Repeat
)

// Message is one message of a channel.
type Message struct {
	Kind        Kind
	Position    []byte // where the message is, as checkpoints store it (opaque)
	Key         Key    // the message's identity (Positions.Key of Position)
	Payload     []byte
	PublishTime time.Time
	// A StartMark carries the start message's payload (it is not data).
	// AtEnd (StartMark): the start message was the newest of the channel
	// when it opened, so its age tells whether the channel is in use.
	AtEnd bool
}

// FatalError is a failure that reconnecting cannot fix (a stored position
// the log no longer has, a checkpoint that is gone): the input stops for
// good and reports why.
type FatalError struct{ Err error }

func (f *FatalError) Error() string { return f.Err.Error() }
func (f *FatalError) Unwrap() error { return f.Err }

// IsFatal reports whether err is (or wraps) a FatalError.
func IsFatal(err error) bool {
	var f *FatalError
	return errors.As(err, &f)
}
