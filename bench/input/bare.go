package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// drained is what one bare reader read from one topic.
type drained struct{ messages, bytes int64 }

// runBare drains every topic from its start position (exclusive) to its end
// position with one plain pulsar-client-go reader each, all at once. It does
// not decode anything; that is the point of the comparison.
func runBare(ctx context.Context, o *options, p *plan) (result, error) {
	begin := time.Now()
	client, err := newPulsarClient(o.pulsarURL)
	if err != nil {
		return result{}, err
	}
	defer client.Close()

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sum  drained
		errs []error
	)
	for _, name := range topicNames() {
		if bytes.Equal(p.Start[name], p.End[name]) {
			continue // nothing arrived on this topic during the fill
		}
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			d, err := drainTopic(ctx, client, name, p.Start[name], p.End[name])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			sum.messages += d.messages
			sum.bytes += d.bytes
		}(name)
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	// Rows are not decoded here; the topics hold exactly the rows inserted.
	return result{Marker: roleBare, Rows: int64(o.rows), Messages: sum.messages, Bytes: sum.bytes, Seconds: elapsed.Seconds()}, nil
}

func drainTopic(ctx context.Context, client pulsar.Client, name string, startPos, endPos []byte) (drained, error) {
	end, err := parsePosition(endPos)
	if err != nil {
		return drained{}, fmt.Errorf("end of %s: %w", name, err)
	}
	if end == nil {
		return drained{}, nil // still empty
	}
	start, err := parsePosition(startPos)
	if err != nil {
		return drained{}, fmt.Errorf("start of %s: %w", name, err)
	}
	if start == nil {
		start = pulsar.EarliestMessageID()
	}
	r, err := client.CreateReader(pulsar.ReaderOptions{
		Topic:             topics.Topic(name),
		StartMessageID:    start, // exclusive: the start message was there before the fill
		ReceiverQueueSize: 1000,
	})
	if err != nil {
		return drained{}, fmt.Errorf("open reader on %s: %w", name, err)
	}
	defer r.Close()
	var d drained
	for {
		msg, err := r.Next(ctx)
		if err != nil {
			return drained{}, fmt.Errorf("read %s after %d messages: %w", name, d.messages, err)
		}
		d.messages++
		d.bytes += int64(len(msg.Payload()))
		if reached(msg.ID(), end) {
			return d, nil
		}
	}
}
