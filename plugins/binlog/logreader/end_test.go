package logreader

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// fakeLastID answers GetLastMessageID with id/err, after release is closed
// when it is set; calls counts the calls.
type fakeLastID struct {
	id      pulsar.MessageID
	err     error
	release chan struct{}
	calls   atomic.Int32
}

func (f *fakeLastID) GetLastMessageID() (pulsar.MessageID, error) {
	f.calls.Add(1)
	if f.release != nil {
		<-f.release
	}
	return f.id, f.err
}

func pos(ledger, entry int64, batch int32) []byte {
	return pulsar.NewMessageID(ledger, entry, batch, 0).Serialize()
}

func TestEndCheckComparesWithTheNewestMessage(t *testing.T) {
	cases := []struct {
		name string
		last pulsar.MessageID
		read []byte
		want bool
	}{
		{"read the newest", pulsar.NewMessageID(3, 7, 0, 0), pos(3, 7, 0), true},
		{"one entry behind", pulsar.NewMessageID(3, 7, 0, 0), pos(3, 6, 0), false},
		{"older ledger", pulsar.NewMessageID(4, 0, 0, 0), pos(3, 9, 0), false},
		{"later batch message unread", pulsar.NewMessageID(3, 7, 2, 0), pos(3, 7, 1), false},
		{"broker without batch index", pulsar.NewMessageID(3, 7, -1, 0), pos(3, 7, 1), true},
		{"empty topic", pulsar.NewMessageID(-1, -1, 0, 0), []byte(contract.EarliestPosition), true},
		{"nothing read of a non-empty topic", pulsar.NewMessageID(3, 0, 0, 0), []byte(contract.EarliestPosition), false},
		{"everything removed by retention", pulsar.NewMessageID(5, -1, 0, 0), pos(3, 9, 0), true},
	}
	for _, c := range cases {
		e := &endCheck{reader: &fakeLastID{id: c.last}}
		got, err := e.atEnd(context.Background(), c.read)
		if err != nil || got != c.want {
			t.Errorf("%s: atEnd = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestEndCheckFailureIsNotAtEnd(t *testing.T) {
	e := &endCheck{reader: &fakeLastID{err: errors.New("connection closed")}}
	if got, err := e.atEnd(context.Background(), pos(1, 1, 0)); got || err == nil {
		t.Fatalf("atEnd = %v, %v; want false and the error", got, err)
	}
	if _, err := e.atEnd(context.Background(), []byte("not an id")); err == nil {
		t.Fatal("an undecodable position gave no error")
	}
}

// TestEndCheckHangingCallIsBounded: a request the broker does not answer
// (the reader is reconnecting) gives "not known" when ctx ends, and no second
// request is queued behind it until it returns.
func TestEndCheckHangingCallIsBounded(t *testing.T) {
	f := &fakeLastID{id: pulsar.NewMessageID(1, 1, 0, 0), release: make(chan struct{})}
	e := &endCheck{reader: f}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if got, err := e.atEnd(ctx, pos(1, 1, 0)); got || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("atEnd = %v, %v; want false and the deadline", got, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("atEnd waited %s past its deadline", d)
	}
	if got, err := e.atEnd(context.Background(), pos(1, 1, 0)); got || !errors.Is(err, errCheckPending) {
		t.Fatalf("second atEnd = %v, %v; want false and errCheckPending", got, err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d requests queued, want 1", n)
	}
	close(f.release)
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := e.atEnd(context.Background(), pos(1, 1, 0))
		if err == nil {
			if !got {
				t.Fatal("not at end after the broker answered")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v after the hanging request returned", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
