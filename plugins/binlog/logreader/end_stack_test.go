package logreader

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// stackPulsar is the stack's Pulsar (skipped without MILVUS_CDC_STACK=1).
func stackPulsar(t *testing.T) (*Pulsar, string) {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the local stack (MILVUS_CDC_STACK=1, env from tests/stack/stack.sh env)")
	}
	url, admin := os.Getenv("PULSAR_URL"), os.Getenv("PULSAR_ADMIN_URL")
	if url == "" || admin == "" {
		t.Fatal("PULSAR_URL and PULSAR_ADMIN_URL must be set")
	}
	p, err := NewPulsar(PulsarConfig{URL: url, Topics: contract.DefaultTopics()}, service.MockResources().Logger())
	if err != nil {
		t.Fatal(err)
	}
	return p, admin
}

// adminCall sends one request to the Pulsar admin API about a test topic.
func adminCall(t *testing.T, method, url string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

func atEnd(t *testing.T, ch Channel, pos []byte) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := ch.(EndChecker).AtEnd(ctx, pos)
	if err != nil {
		t.Fatalf("AtEnd: %v", err)
	}
	return ok
}

// TestStackAtEnd: a channel is at its end only once everything its topic
// holds was read, again after a reconnect (the topic unloaded), and Close
// does not hang afterwards.
func TestStackAtEnd(t *testing.T) {
	p, admin := stackPulsar(t)
	defer p.Close()
	name := fmt.Sprintf("cdc-atend-test-%d", time.Now().UnixNano())
	adminTopic := admin + "/admin/v2/persistent/public/default/" + name
	defer adminCall(t, http.MethodDelete, adminTopic+"?force=true")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	empty, err := p.Open(ctx, OpenOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if !atEnd(t, empty, empty.Start()) {
		t.Fatal("an empty topic is not at its end")
	}
	empty.Close()

	prod, err := p.client.CreateProducer(pulsar.ProducerOptions{Topic: p.conf.Topics.Topic(name), DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	send := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(3)
	ch, err := p.Open(ctx, OpenOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if atEnd(t, ch, ch.Start()) {
		t.Fatal("at its end before reading the 3 messages the topic holds")
	}
	var last Message
	for i := 0; i < 3; i++ {
		if last, err = ch.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !atEnd(t, ch, last.Position) {
		t.Fatal("not at its end after reading every message")
	}
	send(1)
	if atEnd(t, ch, last.Position) {
		t.Fatal("at its end with a new message unread")
	}
	if last, err = ch.Next(ctx); err != nil {
		t.Fatal(err)
	}
	adminCall(t, http.MethodPut, adminTopic+"/unload") // the reader reconnects
	deadline := time.Now().Add(30 * time.Second)
	for !atEnd(t, ch, last.Position) {
		if time.Now().After(deadline) {
			t.Fatal("not at its end 30 s after the topic was unloaded")
		}
		time.Sleep(200 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { ch.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
}
