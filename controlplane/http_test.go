package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
)

// testBase is where the tests address the API: a loopback name, as the
// checks against DNS rebinding want without a bearer token (httptest's
// default Host, example.com, is refused).
const testBase = "http://localhost:8444"

// cdcCall posts body to /cdc and returns the status and the decoded body.
func cdcCall(t *testing.T, h http.Handler, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, testBase+"/cdc", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response is not JSON (%d): %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Code, out
}

func sortedKeys(m map[string]any) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

const createStar = `{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://localhost:19530","token":"root:Milvus","connect_timeout":10},"collection_infos":[{"name":"*"}]}}`

func TestCDCSuccessShapes(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	code, out := cdcCall(t, h, createStar)
	if code != 200 || out["code"] != 200.0 || sortedKeys(out) != "code,data" {
		t.Fatalf("create: %d %v", code, out)
	}
	data := out["data"].(map[string]any)
	if data["task_id"] != "task01" || sortedKeys(data) != "task_id" {
		t.Fatalf("create data: %v", data)
	}

	_, out = cdcCall(t, h, `{"request_type":"list"}`)
	tasks := out["data"].(map[string]any)["tasks"].([]any)
	if len(tasks) != 1 {
		t.Fatalf("list: %v", out)
	}
	task := tasks[0].(map[string]any)
	if got := sortedKeys(task); got != "collection_infos,milvus_connect_param,state,task_id" {
		t.Errorf("list task keys: %s", got)
	}
	target := task["milvus_connect_param"].(map[string]any)
	if sortedKeys(target) != "connect_timeout,uri" || target["uri"] != "http://localhost:19530" || task["state"] != "Running" {
		t.Errorf("list task: %v", task)
	}

	_, out = cdcCall(t, h, `{"request_type":"get","request_data":{"task_id":"task01"}}`)
	data = out["data"].(map[string]any)
	if sortedKeys(data) != "Task,collection_infos,milvus_connect_param,state,task,task_id" || data["state"] != "Running" || data["task_id"] != "task01" {
		t.Fatalf("get data: %v (want the task's fields, and the task again under Task and task)", data)
	}
	upper, _ := json.Marshal(data["Task"])
	lower, _ := json.Marshal(data["task"])
	if !bytes.Equal(upper, lower) || !strings.Contains(string(lower), `"task_id":"task01"`) {
		t.Errorf("get: Task %s, task %s", upper, lower)
	}

	_, out = cdcCall(t, h, `{"request_type":"position","request_data":{"task_id":"task01"}}`)
	data = out["data"].(map[string]any)
	if sortedKeys(data) != "positions,task_id" || data["task_id"] != "task01" ||
		data["positions"].(map[string]any)["by-dev-rootcoord-dml_0"] != "CAEQAxgAIAA=" {
		t.Errorf("position: %v", out)
	}

	for _, typ := range []string{"pause", "resume", "delete"} {
		code, out := cdcCall(t, h, `{"request_type":"`+typ+`","request_data":{"task_id":"task01"}}`)
		if code != 200 || out["code"] != 200.0 || len(out["data"].(map[string]any)) != 0 {
			t.Errorf("%s: %d %v", typ, code, out)
		}
	}
	if _, out = cdcCall(t, h, `{"request_type":"list"}`); len(out["data"].(map[string]any)["tasks"].([]any)) != 0 {
		t.Errorf("list after delete: %v", out)
	}
}

func TestCDCListShowsReasonAndDBCollections(t *testing.T) {
	svc := newHTTPFakeService()
	svc.tasks["t1"] = Task{ID: "t1", Target: ConnectParam{Host: "h", Port: 19530, ConnectTimeout: 10},
		DBCollections: map[string][]CollectionInfo{"db1": {{Name: "*"}}}, State: StatePaused, Reason: "target down"}
	_, out := cdcCall(t, NewHandler(svc, HandlerOptions{}), `{"request_type":"list"}`)
	task := out["data"].(map[string]any)["tasks"].([]any)[0].(map[string]any)
	if got := sortedKeys(task); got != "db_collections,milvus_connect_param,reason,state,task_id" {
		t.Errorf("keys: %s", got)
	}
	if task["reason"] != "target down" || task["state"] != "Paused" {
		t.Errorf("task: %v", task)
	}
}

func TestCDCErrors(t *testing.T) {
	svc := newHTTPFakeService()
	h := NewHandler(svc, HandlerOptions{})
	if code, _ := cdcCall(t, h, createStar); code != 200 {
		t.Fatal("create failed")
	}
	cases := []struct {
		name, body string
		code       int
		msg        string
	}{
		{"malformed", `{"request_type":"list"`, 400, "malformed JSON"},
		{"trailing garbage", `{"request_type":"list"} x`, 400, "malformed JSON"},
		{"empty body", ``, 400, "empty"},
		{"not an object", `[1,2]`, 400, "must be a JSON object"},
		{"unknown type", `{"request_type":"start"}`, 400, "want one of create, list, get, pause, resume, delete, position"},
		{"uppercase type", `{"request_type":"Create"}`, 400, "lowercase"},
		{"no type", `{"request_data":{}}`, 400, "request_type is required"},
		{"type not string", `{"request_type":5}`, 400, "request_type: wrong JSON type"},
		{"get no id", `{"request_type":"get"}`, 400, "task_id is required"},
		{"pause no id", `{"request_type":"pause","request_data":{}}`, 400, "task_id is required"},
		{"resume no id", `{"request_type":"resume","request_data":null}`, 400, "task_id is required"},
		{"delete no id", `{"request_type":"delete","request_data":{"task_id":""}}`, 400, "task_id is required"},
		{"position no id", `{"request_type":"position"}`, 400, "task_id is required"},
		{"id not string", `{"request_type":"get","request_data":{"task_id":7}}`, 400, "task_id: wrong JSON type"},
		{"bad id", `{"request_type":"get","request_data":{"task_id":"a:b"}}`, 400, "task_id: must be"},
		{"unknown id", `{"request_type":"get","request_data":{"task_id":"nope"}}`, 404, "not found"},
		{"pause unknown", `{"request_type":"pause","request_data":{"task_id":"nope"}}`, 404, "not found"},
		{"resume running", `{"request_type":"resume","request_data":{"task_id":"task01"}}`, 409, "is Running"},
		{"port string", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"h","port":"abc"},"collection_infos":[{"name":"*"}]}}`, 400, "milvus_connect_param.port: wrong JSON type: want integer, got string"},
		{"port huge", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"h","port":1e99},"collection_infos":[{"name":"*"}]}}`, 400, "milvus_connect_param.port: want an integer"},
		{"infos string", `{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"h:1"},"collection_infos":"x"}}`, 400, "collection_infos: wrong JSON type: want array, got string"},
		{"data string", `{"request_type":"create","request_data":"x"}`, 400, "request_data: wrong JSON type: want object"},
		{"no data", `{"request_type":"create"}`, 400, "request_data is required"},
		{"no target", `{"request_type":"create","request_data":{"collection_infos":[{"name":"*"}]}}`, 400, "uri: required"},
		{"user no pass", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"h","port":1,"username":"u"},"collection_infos":[{"name":"*"}]}}`, 400, "give both or neither"},
		{"no collections", `{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"h:1"}}}`, 400, "collection_infos or db_collections is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := cdcCall(t, h, c.body)
			if code != c.code || out["code"] != float64(code) || sortedKeys(out) != "code,message" {
				t.Fatalf("status %d, body %v; want %d", code, out, c.code)
			}
			if msg, _ := out["message"].(string); !strings.Contains(msg, c.msg) {
				t.Errorf("message %q does not contain %q", msg, c.msg)
			}
		})
	}
	// Pausing a paused task.
	cdcCall(t, h, `{"request_type":"pause","request_data":{"task_id":"task01"}}`)
	if code, out := cdcCall(t, h, `{"request_type":"pause","request_data":{"task_id":"task01"}}`); code != 409 || out["code"] != 409.0 {
		t.Errorf("pause paused: %d %v", code, out)
	}
}

func TestCDCServiceErrors(t *testing.T) {
	svc := newHTTPFakeService()
	h := NewHandler(svc, HandlerOptions{})
	svc.listErr = errors.New("redis: connection refused")
	if code, out := cdcCall(t, h, `{"request_type":"list"}`); code != 500 || out["message"] != "internal error: redis: connection refused" {
		t.Errorf("plain error: %d %v", code, out)
	}
	svc.listErr = &APIError{Code: 200, Message: "odd"} // not an error status: answered as 500
	if code, out := cdcCall(t, h, `{"request_type":"list"}`); code != 500 || out["code"] != 500.0 {
		t.Errorf("APIError 200: %d %v", code, out)
	}
	svc.listErr = fmt.Errorf("listing: %w", Errorf(http.StatusServiceUnavailable, "no worker"))
	if code, out := cdcCall(t, h, `{"request_type":"list"}`); code != 503 || out["message"] != "no worker" {
		t.Errorf("wrapped APIError: %d %v", code, out)
	}
	svc.panicOn = requestCreate
	if code, out := cdcCall(t, h, createStar); code != 500 || strings.Contains(fmt.Sprint(out), "Milvus") {
		t.Errorf("panic: %d %v", code, out)
	}
}

func TestCDCBodyTooLarge(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	body := `{"request_type":"list","request_data":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
	code, out := cdcCall(t, h, body)
	if code != http.StatusRequestEntityTooLarge || out["code"] != 413.0 || !strings.Contains(out["message"].(string), "1 MiB") {
		t.Errorf("%d %v", code, out)
	}
}

func TestRoutes(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	cases := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/cdc", 405, "POST"},
		{http.MethodPut, "/cdc", 405, "POST"},
		{http.MethodDelete, "/cdc", 405, "POST"},
		{http.MethodPost, "/healthz", 405, "GET, HEAD"},
		{http.MethodPost, "/cdc/", 404, ""},
		{http.MethodGet, "/", 404, ""},
		{http.MethodPost, "/tasks", 404, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, testBase+c.path, nil))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != c.code || out["code"] != float64(c.code) {
			t.Errorf("%s %s: %d %q", c.method, c.path, rec.Code, rec.Body.String())
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q", c.method, c.path, got)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %q", rec.Code, rec.Body.String())
	}
}

func TestBearerAuth(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{BearerToken: "s3cret-token"})
	list := `{"request_type":"list"}`
	for _, auth := range []string{"", "Bearer wrong", "Basic s3cret-token", "Bearer s3cret-token-longer", "s3cret-token", "Bearer "} {
		code, out := cdcCall(t, h, list, "Authorization", auth)
		if code != 401 || out["code"] != 401.0 || strings.Contains(fmt.Sprint(out), "s3cret") {
			t.Errorf("auth %q: %d %v", auth, code, out)
		}
	}
	for _, auth := range []string{"Bearer s3cret-token", "bearer s3cret-token"} {
		if code, _ := cdcCall(t, h, list, "Authorization", auth); code != 200 {
			t.Errorf("auth %q: %d", auth, code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz needs no token: %d", rec.Code)
	}
	// Without a configured token, /cdc is open.
	if code, _ := cdcCall(t, NewHandler(newHTTPFakeService(), HandlerOptions{}), list); code != 200 {
		t.Errorf("auth off: %d", code)
	}
}

// TestSecretsNeverShown: tokens and passwords appear in no response and no
// log line, whatever the service stores or answers.
func TestSecretsNeverShown(t *testing.T) {
	const token, password = "root:TokSecret42", "PassSecret42"
	var logs bytes.Buffer
	svc := newHTTPFakeService()
	h := NewHandler(svc, HandlerOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	var bodies []string
	call := func(body string) {
		req := httptest.NewRequest(http.MethodPost, testBase+"/cdc", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		bodies = append(bodies, rec.Body.String())
	}
	call(`{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://m:19530","token":"` + token + `"},"collection_infos":[{"name":"a"}]}}`)
	call(`{"request_type":"create","request_data":{"milvus_connect_param":{"host":"m","port":19530,"username":"root","password":"` + password + `"},"collection_infos":[{"name":"b"}]}}`)
	call(`{"request_type":"list"}`)
	call(`{"request_type":"get","request_data":{"task_id":"task01"}}`)
	call(`{"request_type":"get","request_data":{"task_id":"task02"}}`)
	// A failing target whose error quotes the credentials.
	svc.createErr = Errorf(http.StatusBadGateway, "target refused token %s / password %s", token, password)
	call(`{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"m:1","token":"` + token + `","username":"u","password":"` + password + `"},"collection_infos":[{"name":"c"}]}}`)
	svc.createErr = nil
	// A validation error of a request that carries secrets.
	call(`{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"m:1","token":"` + token + `"},"collection_infos":[{"name":"TokSecret42"}, {"name":"TokSecret42"}]}}`)
	// A stored reason that quotes the task's token.
	svc.tasks["task01"] = Task{ID: "task01", Target: ConnectParam{URI: "m:1", Token: token}, State: StatePaused,
		Reason: "auth failed with " + token, CollectionInfos: []CollectionInfo{{Name: "a"}}}
	call(`{"request_type":"list"}`)

	all := strings.Join(bodies, "\n") + logs.String()
	for _, s := range []string{"TokSecret42", "PassSecret42"} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q shown:\n%s", s, all)
		}
	}
	if !strings.Contains(all, "[redacted]") || !strings.Contains(bodies[5], `"code":502`) {
		t.Errorf("expected a scrubbed 502: %s", bodies[5])
	}
	if n := strings.Count(logs.String(), "\n"); n != len(bodies) {
		t.Errorf("%d log lines for %d requests", n, len(bodies))
	}
}

func TestDeprecatedHostPortAccepted(t *testing.T) {
	svc := newHTTPFakeService()
	h := NewHandler(svc, HandlerOptions{})
	code, out := cdcCall(t, h, `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"10.0.0.5","port":19530,"username":"root","password":"pw","enable_tls":true},"collection_infos":[{"name":"orders"}]}}`)
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	want := ConnectParam{Host: "10.0.0.5", Port: 19530, Username: "root", Password: "pw", EnableTLS: true, ConnectTimeout: 10}
	if svc.lastReq.Target != want {
		t.Errorf("service got %+v", svc.lastReq.Target)
	}
}

func TestCreateExtrasPassedOn(t *testing.T) {
	svc := newHTTPFakeService()
	h := NewHandler(svc, HandlerOptions{})
	code, out := cdcCall(t, h, `{"request_type":"create","request_data":{"task_id":"my-task_1","disable_auto_start":true,
		"milvus_connect_param":{"uri":"https://t:443"},"db_collections":{"*":[{"name":"*"}],"db1":[{"name":"c1"},{"name":"c2"}]}}}`)
	if code != 200 || out["data"].(map[string]any)["task_id"] != "my-task_1" {
		t.Fatalf("%d %v", code, out)
	}
	r := svc.lastReq
	if r.TaskID != "my-task_1" || !r.DisableAutoStart || !r.Target.EnableTLS || len(r.DBCollections["db1"]) != 2 {
		t.Errorf("service got %+v", r)
	}
}

func TestRequestLogLine(t *testing.T) {
	var logs bytes.Buffer
	h := NewHandler(newHTTPFakeService(), HandlerOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	cdcCall(t, h, createStar)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("one JSON line expected: %q", logs.String())
	}
	if line["request_type"] != "create" || line["task_id"] != "task01" || line["status"] != 200.0 || line["duration"] == nil {
		t.Errorf("log line: %v", line)
	}
	if strings.Contains(logs.String(), "collection_infos") {
		t.Errorf("body logged: %s", logs.String())
	}
}

// TestCreateSnapshotMode: "snapshot" defaults to initial, takes never, and
// anything else is a 400 that names both values.
func TestCreateSnapshotMode(t *testing.T) {
	for _, c := range []struct{ field, want string }{{"", SnapshotInitial}, {`"snapshot":"initial",`, SnapshotInitial}, {`"snapshot":"never",`, SnapshotNever}} {
		svc := newHTTPFakeService()
		h := NewHandler(svc, HandlerOptions{})
		code, out := cdcCall(t, h, `{"request_type":"create","request_data":{`+c.field+`"milvus_connect_param":{"uri":"http://t:19530"},"collection_infos":[{"name":"*"}]}}`)
		if code != 200 || svc.lastReq.Snapshot != c.want {
			t.Errorf("%s: %d %v, service got snapshot %q; want %q", c.field, code, out, svc.lastReq.Snapshot, c.want)
		}
	}
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	code, out := cdcCall(t, h, `{"request_type":"create","request_data":{"snapshot":"always","milvus_connect_param":{"uri":"http://t:19530"},"collection_infos":[{"name":"*"}]}}`)
	if msg, _ := out["message"].(string); code != 400 || !strings.Contains(msg, `"initial"`) || !strings.Contains(msg, `"never"`) {
		t.Errorf("snapshot always: %d %v, want a 400 naming initial and never", code, out)
	}
}
