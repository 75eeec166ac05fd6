package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestStackNoForeignRemoval: a control plane removes only streams its own
// store started. A second control plane with another store pointed at the
// same worker, and the first control plane's store losing its data, both
// leave the running stream alone (it keeps running: its uptime grows) and
// say why in their logs.
func TestStackNoForeignRemoval(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	coll := harness.UniqueName("foreign")
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	harness.WaitFor(t, 30*time.Second, "the task's stream", func() bool { return harness.HasStream(cp.URLs[0], id) })

	// A second control plane, another store, the same worker.
	second := cp.StartForeign(t)
	before := uptime(t, cp.URLs[0], id)
	time.Sleep(6 * time.Second) // three reconcile passes of each control plane
	if after := uptime(t, cp.URLs[0], id); after < before+5 {
		t.Fatalf("the stream restarted or vanished under a second control plane (uptime %.1f s, then %.1f s)", before, after)
	}
	if !strings.Contains(second.Logs.String(), "did not start") {
		t.Errorf("the second control plane does not report the foreign stream:\n%s", second.Logs.String())
	}

	// The first control plane's store loses its data.
	harness.DropPrefix(env.RedisAddr, cp.Prefix)
	before = uptime(t, cp.URLs[0], id)
	time.Sleep(6 * time.Second)
	if after := uptime(t, cp.URLs[0], id); after < before+5 {
		t.Fatalf("the stream restarted or vanished after its store lost its data (uptime %.1f s, then %.1f s)", before, after)
	}
	if !strings.Contains(cp.Server.Logs.String(), "lost its data") {
		t.Errorf("the control plane does not report its store's loss:\n%s", cp.Server.Logs.String())
	}
	// ... and answers every request with that, not with an empty task list.
	create := map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"collection_infos":     []map[string]any{{"name": coll + "_2"}},
	}
	for rt, data := range map[string]any{"list": nil, "get": map[string]any{"task_id": id}, "create": create} {
		code, resp := harness.CDC(t, cp.Base, rt, data)
		if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(resp["message"]), "lost its data") {
			t.Errorf("%s after the store lost its data: %d %v, want 503 saying so", rt, code, resp)
		}
	}
	// Clean up the way an operator would: through the worker.
	req, _ := http.NewRequest(http.MethodDelete, cp.URLs[0]+"/streams/"+id, nil)
	if r, err := http.DefaultClient.Do(req); err == nil {
		r.Body.Close()
	}
}

// uptime is the uptime in seconds of stream id on the worker at url.
func uptime(t *testing.T, url, id string) float64 {
	t.Helper()
	u, err := harness.StreamUptime(url, id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
