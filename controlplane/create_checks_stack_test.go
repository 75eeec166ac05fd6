package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// wantAPIError fails unless err is an *APIError of code whose message holds
// every one of want.
func wantAPIError(t *testing.T, what string, err error, code int, want ...string) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v, want a %d", what, err, code)
	}
	for _, w := range want {
		if !strings.Contains(ae.Message, w) {
			t.Fatalf("%s: %q does not say %q", what, ae.Message, w)
		}
	}
	return ae
}

// TestCreateSameTargetSpelledOtherwise: `t:19530` and `http://T:19530/`
// (and the host/port form) are one target, so a second task for the same
// collection there is refused.
func TestCreateSameTargetSpelledOtherwise(t *testing.T) {
	m := stackManager(t, 0)
	ctx := context.Background()
	if _, err := m.Create(ctx, createReq("t:19530", "c1")); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"http://T:19530/", "https://t:19530", "HTTP://t.:19530"} {
		_, err := m.Create(ctx, createReq(uri, "c1"))
		wantAPIError(t, "second task for c1 at "+uri, err, http.StatusConflict, "already copies")
	}
	_, err := m.Create(ctx, CreateRequest{Target: ConnectParam{Host: "T", Port: 19530}, CollectionInfos: []CollectionInfo{{Name: "c1"}}})
	wantAPIError(t, "second task for c1 at host T port 19530", err, http.StatusConflict, "already copies")
	if _, err := m.Create(ctx, createReq("http://[::1]:19530", "c1")); err != nil {
		t.Fatal(err)
	}
	_, err = m.Create(ctx, createReq("[0:0::1]:19530", "c1"))
	wantAPIError(t, "second task for c1 at [0:0::1]", err, http.StatusConflict, "already copies")
}

// TestCreateRepeatWithOtherSettings: repeating a create of an existing task
// id with the same request is answered with the task (idempotent); with
// other credentials, or another connect_timeout, it is a 409 that echoes no
// credential.
func TestCreateRepeatWithOtherSettings(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			m := stackManager(t, 0)
			if sealed {
				k, err := contract.ParseKeyring(base64.StdEncoding.EncodeToString(make([]byte, 32)))
				if err != nil {
					t.Fatal(err)
				}
				redisOf(m).keyring = k
			}
			ctx := context.Background()
			req := createReq("http://t:1", "c1")
			req.TaskID, req.Target.Token = "repeat", "root:old-secret"
			if _, err := m.Create(ctx, req); err != nil {
				t.Fatal(err)
			}
			if id, err := m.Create(ctx, req); err != nil || id != "repeat" {
				t.Fatalf("same create again: %q %v, want the task again", id, err)
			}
			other := req
			other.Target.Token = "root:new-secret"
			ae := wantAPIError(t, "repeat with another token", func() error { _, err := m.Create(ctx, other); return err }(),
				http.StatusConflict, "already exists", "delete it first")
			if strings.Contains(ae.Message, "secret") {
				t.Fatalf("the answer echoes a credential: %q", ae.Message)
			}
			other = req
			other.Target.Token, other.Target.Username, other.Target.Password = "", "root", "old-secret"
			_, err := m.Create(ctx, other)
			wantAPIError(t, "repeat with username and password instead of the token", err, http.StatusConflict, "already exists")
			other = req
			other.Target.ConnectTimeout = 30
			_, err = m.Create(ctx, other)
			wantAPIError(t, "repeat with another connect_timeout", err, http.StatusConflict, "already exists")
		})
	}
}

// TestCreateDialErrorEchoesNothing: a create whose target cannot be reached
// answers a fixed message naming the uri as given and the timeout, never the
// dial's own error (resolved addresses, TLS details, gRPC text).
func TestCreateDialErrorEchoesNothing(t *testing.T) {
	m := stackManager(t, 0)
	m.dial = func(context.Context, ConnectParam) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("10.9.8.7"), Port: 19530},
			Err: errors.New("connect: connection refused; tls: first record does not look like a TLS handshake")}
	}
	req := createReq("http://internal-host:19530", "c1")
	req.Target.ConnectTimeout = 2
	_, err := m.Create(context.Background(), req)
	ae := wantAPIError(t, "create to a target that refuses", err, http.StatusBadRequest,
		`cannot connect to the target Milvus at "http://internal-host:19530" within 2s`, "check the address, port, TLS and token")
	for _, leak := range []string{"10.9.8.7", "refused", "tls:", "dial"} {
		if strings.Contains(ae.Message, leak) {
			t.Fatalf("the answer echoes the dial error (%q): %q", leak, ae.Message)
		}
	}
}

// commandCounter counts the Redis commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

// TestCreateReadsOnlyItsTarget: what a create costs in Redis commands does
// not grow with the tasks of other targets (it counts tasks with one
// command and reads only the tasks of its own target).
func TestCreateReadsOnlyItsTarget(t *testing.T) {
	m := stackManager(t, 1000)
	ctx := context.Background()
	var c commandCounter
	redisOf(m).rdb.AddHook(&c)
	cost := func(i int) int64 {
		before := c.n.Load()
		if _, err := m.Create(ctx, createReq("http://new:1", fmt.Sprintf("c%d", i))); err != nil {
			t.Fatal(err)
		}
		return c.n.Load() - before
	}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			if err := m.store.Put(ctx, Task{ID: fmt.Sprintf("other%d", i), Target: ConnectParam{URI: fmt.Sprintf("http://other%d:1", i)},
				CollectionInfos: []CollectionInfo{{Name: "*"}}, State: StatePaused}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 10)
	cost(0) // the first create may build the index
	few := cost(1)
	put(10, 300)
	many := cost(2)
	t.Logf("a create costs %d Redis commands with 12 tasks, %d with 302", few, many)
	if many > few+2 {
		t.Fatalf("a create costs %d Redis commands with 302 tasks and %d with 12: it reads the tasks of other targets", many, few)
	}
}

// TestCreateTasksPerTargetCap: a target takes at most maxTasksPerTarget
// tasks; the next is refused with a 400 naming the cap, while another
// target still takes tasks.
func TestCreateTasksPerTargetCap(t *testing.T) {
	m := stackManager(t, 1000)
	ctx := context.Background()
	for i := 0; i < maxTasksPerTarget; i++ {
		if _, err := m.Create(ctx, createReq("http://t:1", fmt.Sprintf("c%d", i))); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	_, err := m.Create(ctx, createReq("T:1", "more"))
	wantAPIError(t, "one task more for the target", err, http.StatusBadRequest, fmt.Sprintf("at most %d tasks", maxTasksPerTarget))
	if _, err := m.Create(ctx, createReq("http://u:1", "more")); err != nil {
		t.Fatalf("a task for another target: %v", err)
	}
}

// TestCreateIndexLostOrConcurrent: with the target index gone (a store
// restored from before it existed) a create still sees the tasks of its
// target; concurrent creates and deletes leave the index in step with the
// tasks (exactly one of racing overlapping creates wins; a deleted task
// blocks nothing).
func TestCreateIndexLostOrConcurrent(t *testing.T) {
	m := stackManager(t, 0)
	ctx := context.Background()
	if _, err := m.Create(ctx, createReq("http://t:1", "c1")); err != nil {
		t.Fatal(err)
	}
	keys, err := redisOf(m).rdb.Keys(ctx, redisOf(m).prefix+"target*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no target index keys: %v %v", keys, err)
	}
	if err := redisOf(m).rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = m.Create(ctx, createReq("http://t:1", "c1"))
	wantAPIError(t, "overlap after the index was lost", err, http.StatusConflict, "already copies")

	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id, err := m.Create(ctx, createReq("http://race:1", "c")); err == nil {
				won <- id
			}
		}()
	}
	wg.Wait()
	close(won)
	var ids []string
	for id := range won {
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		t.Fatalf("%d of 8 overlapping creates won", len(ids))
	}
	if err := m.Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, createReq("RACE:1", "c")); err != nil {
		t.Fatalf("create after the overlapping task was deleted: %v", err)
	}
}
