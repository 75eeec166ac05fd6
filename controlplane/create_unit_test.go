package controlplane

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAdmissionRefusals: without a stack, what a create refuses: a second
// task for the same collections at the same target however its uri is
// spelled (409), a create beyond max_tasks (400), a repeat of an existing
// id with other credentials (409, echoing none), while the same request
// again is answered with the task.
func TestAdmissionRefusals(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.m.maxTasks = 3
	p.create(t, "t1", "t:19530", "c1", true)
	for _, uri := range []string{"http://T:19530/", "https://t:19530", "HTTP://t.:19530"} {
		_, err := p.m.Create(ctx, CreateRequest{Target: ConnectParam{URI: uri}, CollectionInfos: []CollectionInfo{{Name: "c1"}}})
		wantAPICode(t, "second task for c1 at "+uri, err, http.StatusConflict, "already copies")
	}
	same := CreateRequest{TaskID: "t1", Target: ConnectParam{URI: "t:19530", Token: "root:secret"}, CollectionInfos: []CollectionInfo{{Name: "c1"}},
		DisableAutoStart: true}
	if id, err := p.m.Create(ctx, same); err != nil || id != "t1" {
		t.Fatalf("the same create again: %q %v, want the task", id, err)
	}
	other := same
	other.Target.Token = "root:other-secret"
	_, err := p.m.Create(ctx, other)
	wantAPICode(t, "repeat with other credentials", err, http.StatusConflict, "already exists")
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the answer echoes a credential: %v", err)
	}
	p.create(t, "t2", "t:19530", "c2", true)
	p.create(t, "t3", "t:19530", "c3", true)
	_, err = p.m.Create(ctx, CreateRequest{Target: ConnectParam{URI: "u:1"}, CollectionInfos: []CollectionInfo{{Name: "c"}}})
	wantAPICode(t, "a create beyond max_tasks", err, http.StatusBadRequest, "max_tasks")
}

// TestAdmissionUnreachableTarget: a target that cannot be dialed is a 400
// naming the uri as given and the timeout, never the dial's own error, and
// nothing is stored; a Pulsar that cannot be pinned is a 503, nothing stored.
func TestAdmissionUnreachableTarget(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.m.dial = func(context.Context, ConnectParam) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("10.9.8.7"), Port: 19530}, Err: errors.New("connection refused")}
	}
	req := CreateRequest{TaskID: "t1", Target: ConnectParam{URI: "http://internal:19530", ConnectTimeout: 2}, CollectionInfos: []CollectionInfo{{Name: "c"}}}
	_, err := p.m.Create(ctx, req)
	wantAPICode(t, "create to an unreachable target", err, http.StatusBadRequest, `cannot connect to the target Milvus at "http://internal:19530" within 2s`)
	if strings.Contains(err.Error(), "10.9.8.7") || strings.Contains(err.Error(), "refused") {
		t.Fatalf("the answer echoes the dial error: %v", err)
	}
	p.m.dial = func(context.Context, ConnectParam) error { return nil }
	p.m.pin = func(context.Context) ([]byte, error) { return nil, errors.New("pulsar away") }
	_, err = p.m.Create(ctx, req)
	wantAPICode(t, "create while Pulsar is away", err, http.StatusServiceUnavailable, "nothing was created")
	if n, _ := p.store.TaskCount(ctx); n != 0 {
		t.Fatalf("%d tasks stored by refused creates", n)
	}
}
