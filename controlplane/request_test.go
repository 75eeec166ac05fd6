package controlplane

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// createBody builds a create request around a target and a collections part.
func createBody(target, collections string) string {
	return `{"request_type":"create","request_data":{"milvus_connect_param":` + target + `,` + collections + `}}`
}

const allCollections = `"collection_infos":[{"name":"*"}]`

func TestDecodeCreateValid(t *testing.T) {
	cases := []struct {
		name, body string
		want       ConnectParam
	}{
		{"uri http", createBody(`{"uri":"http://localhost:19530","token":"root:Milvus"}`, allCollections),
			ConnectParam{URI: "http://localhost:19530", Token: "root:Milvus", ConnectTimeout: 10}},
		{"uri https turns TLS on", createBody(`{"uri":"https://in01.example.com:443/","connect_timeout":30}`, allCollections),
			ConnectParam{URI: "https://in01.example.com:443/", EnableTLS: true, ConnectTimeout: 30}},
		{"uri host:port", createBody(`{"uri":"10.0.0.1:19530"}`, allCollections),
			ConnectParam{URI: "10.0.0.1:19530", ConnectTimeout: 10}},
		{"uri ipv6", createBody(`{"uri":"http://[::1]:19530"}`, allCollections),
			ConnectParam{URI: "http://[::1]:19530", ConnectTimeout: 10}},
		{"uri wins over host", createBody(`{"uri":"a:1","host":"b"}`, allCollections),
			ConnectParam{URI: "a:1", Host: "b", ConnectTimeout: 10}},
		{"deprecated host form", createBody(`{"host":"milvus","port":19530,"username":"root","password":"pw","enable_tls":true}`, allCollections),
			ConnectParam{Host: "milvus", Port: 19530, Username: "root", Password: "pw", EnableTLS: true, ConnectTimeout: 10}},
		{"db_collections", createBody(`{"uri":"a:1"}`, `"db_collections":{"*":[{"name":"*"}],"db_1":[{"name":"c1"},{"name":"_c2"}]}`),
			ConnectParam{URI: "a:1", ConnectTimeout: 10}},
		{"unknown fields ignored", createBody(`{"uri":"a:1","extra":1}`, allCollections+`,"buffer_config":{"period":1}`),
			ConnectParam{URI: "a:1", ConnectTimeout: 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := decodeRequest([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if req.Type != requestCreate || req.Create.Target != c.want {
				t.Errorf("got %+v", req)
			}
		})
	}
}

func TestDecodeCreateInvalid(t *testing.T) {
	cases := []struct{ name, body, msg string }{
		{"no target", `{"request_type":"create","request_data":{` + allCollections + `}}`, "milvus_connect_param.uri: required"},
		{"host without port", createBody(`{"host":"h"}`, allCollections), "port: required"},
		{"port too big", createBody(`{"host":"h","port":65536}`, allCollections), "port: must be 1..65535"},
		{"port negative", createBody(`{"host":"h","port":-1}`, allCollections), "port: must be 1..65535"},
		{"host is a URL", createBody(`{"host":"http://h","port":1}`, allCollections), "put it in uri"},
		{"host with space", createBody(`{"host":"h h","port":1}`, allCollections), "not a host name"},
		{"password without user", createBody(`{"uri":"h:1","password":"p"}`, allCollections), "give both or neither"},
		{"timeout negative", createBody(`{"uri":"h:1","connect_timeout":-1}`, allCollections), "connect_timeout: must be 0..3600"},
		{"timeout huge", createBody(`{"uri":"h:1","connect_timeout":99999999999}`, allCollections), "connect_timeout"},
		{"uri scheme", createBody(`{"uri":"grpc://h:1"}`, allCollections), "scheme must be http or https"},
		{"uri no port", createBody(`{"uri":"http://h"}`, allCollections), "want http://host:port"},
		{"uri port 0", createBody(`{"uri":"h:0"}`, allCollections), "port must be 1..65535"},
		{"uri port text", createBody(`{"uri":"h:abc"}`, allCollections), "port must be 1..65535"},
		{"uri path", createBody(`{"uri":"http://h:1/x"}`, allCollections), "without a path"},
		{"uri credentials", createBody(`{"uri":"http://root:pw@h:1"}`, allCollections), "must not carry credentials"},
		{"both lists", createBody(`{"uri":"h:1"}`, allCollections+`,"db_collections":{"d":[{"name":"*"}]}`), "not both"},
		{"both empty", createBody(`{"uri":"h:1"}`, `"collection_infos":[],"db_collections":{}`), "is required"},
		{"empty name", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":""}]`), "collection_infos[0].name: collection name is empty"},
		{"null entry", createBody(`{"uri":"h:1"}`, `"collection_infos":[null]`), "is empty"},
		{"blank name", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"a"},{"name":"  "}]`), "collection_infos[1].name: collection name is blank"},
		{"digit first", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"1a"}]`), "not valid"},
		{"dash", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"a-b"}]`), "not valid"},
		{"unicode", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"größe"}]`), "not valid"},
		{"too long", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"`+strings.Repeat("a", 256)+`"}]`), "longer than 255"},
		{"star with others", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"a"},{"name":"*"}]`), "give it alone"},
		{"repeat", createBody(`{"uri":"h:1"}`, `"collection_infos":[{"name":"a"},{"name":"a"}]`), `collection_infos[1].name: "a" repeats collection_infos[0]`},
		{"db name invalid", createBody(`{"uri":"h:1"}`, `"db_collections":{"my db":[{"name":"*"}]}`), "database name"},
		{"db name empty", createBody(`{"uri":"h:1"}`, `"db_collections":{"":[{"name":"*"}]}`), "database name is empty"},
		{"db empty list", createBody(`{"uri":"h:1"}`, `"db_collections":{"d":[]}`), `db_collections["d"]: at least one collection`},
		{"db bad collection", createBody(`{"uri":"h:1"}`, `"db_collections":{"d":[{"name":"ok"},{"name":"9"}]}`), `db_collections["d"][1].name`},
		{"task id bad", `{"request_type":"create","request_data":{"task_id":"a b","milvus_connect_param":{"uri":"h:1"},` + allCollections + `}}`, "task_id: must be"},
		{"task id long", `{"request_type":"create","request_data":{"task_id":"` + strings.Repeat("a", 65) + `","milvus_connect_param":{"uri":"h:1"},` + allCollections + `}}`, "task_id: must be"},
		{"port wrong type", createBody(`{"host":"h","port":"19530"}`, allCollections), "milvus_connect_param.port: wrong JSON type: want integer, got string"},
		{"port fraction", createBody(`{"host":"h","port":1.5}`, allCollections), "milvus_connect_param.port: want an integer"},
		{"tls wrong type", createBody(`{"uri":"h:1","enable_tls":1}`, allCollections), "milvus_connect_param.enable_tls: wrong JSON type: want boolean, got number"},
		{"infos object", createBody(`{"uri":"h:1"}`, `"collection_infos":{"name":"*"}`), "collection_infos: wrong JSON type: want array, got object"},
		{"db list", createBody(`{"uri":"h:1"}`, `"db_collections":[]`), "db_collections: wrong JSON type: want object, got array"},
		{"target string", createBody(`"h:1"`, allCollections), "milvus_connect_param: wrong JSON type: want object, got string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeRequest([]byte(c.body))
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != 400 {
				t.Fatalf("want a 400 APIError, got %v", err)
			}
			if !strings.Contains(apiErr.Message, c.msg) {
				t.Errorf("message %q does not contain %q", apiErr.Message, c.msg)
			}
		})
	}
}

func TestDecodeTaskRequests(t *testing.T) {
	for _, typ := range []string{"get", "pause", "resume", "delete", "position"} {
		req, err := decodeRequest([]byte(`{"request_type":"` + typ + `","request_data":{"task_id":"30d1e325df604ebb99e14c2a335a1421"}}`))
		if err != nil || req.Type != typ || req.TaskID != "30d1e325df604ebb99e14c2a335a1421" {
			t.Errorf("%s: %+v %v", typ, req, err)
		}
	}
	// list ignores request_data, whatever it is.
	for _, body := range []string{`{"request_type":"list"}`, `{"request_type":"list","request_data":{}}`, `{"request_type":"list","request_data":"x"}`} {
		if req, err := decodeRequest([]byte(body)); err != nil || req.Type != requestList {
			t.Errorf("%s: %+v %v", body, req, err)
		}
	}
}

func TestUnknownRequestTypeNotKept(t *testing.T) {
	// An unknown type is not carried on (it would reach the log line).
	req, err := decodeRequest([]byte(`{"request_type":"` + strings.Repeat("x", 1000) + `"}`))
	if err == nil || req.Type != "" || len(err.Error()) > 300 {
		t.Errorf("%+v %v", req, err)
	}
}

func TestNameProblem(t *testing.T) {
	for name, ok := range map[string]bool{
		"*": true, "a": true, "_": true, "A_1": true, "_9": true, strings.Repeat("z", 255): true,
		"": false, " ": false, "\t": false, "1": false, "a b": false, "a.b": false, "a*": false, "**": false,
		" a": false, "é": false, strings.Repeat("z", 256): false,
	} {
		if got := nameProblem(name) == ""; got != ok {
			t.Errorf("nameProblem(%q) = %q", name, nameProblem(name))
		}
	}
}

func TestValidateTaskID(t *testing.T) {
	for id, ok := range map[string]bool{
		"30d1e325df604ebb99e14c2a335a1421": true, "a": true, "my-task_1": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a:b": false, "a/b": false, "a b": false, "ü": false, "*": false,
	} {
		if got := validateTaskID(id) == nil; got != ok {
			t.Errorf("validateTaskID(%q) = %v", id, validateTaskID(id))
		}
	}
}

func TestRequestSecrets(t *testing.T) {
	r := cdcRequest{Create: CreateRequest{Target: ConnectParam{Token: "root:Milvus", Password: "pw"}}}
	got := strings.Join(r.secrets(), ",")
	if got != "root:Milvus,pw,Milvus" {
		t.Errorf("secrets: %s", got)
	}
	if msg := scrubSecrets("root:Milvus and Milvus and pw", r.secrets()); strings.Contains(msg, "Milvus") || strings.Contains(msg, "pw") {
		t.Errorf("scrubbed: %s", msg)
	}
	if msg := scrubSecrets("nothing", nil); msg != "nothing" {
		t.Errorf("scrubbed: %s", msg)
	}
}

func TestPublicTaskHidesSecrets(t *testing.T) {
	v := publicTask(Task{ID: "t", Target: ConnectParam{URI: "http://u:pw@h:1", Token: "tok", Password: "pw", Username: "u"},
		Reason: "failed: tok", Worker: "w1"})
	if v.Target.Token != "" || v.Target.Password != "" || v.Target.URI != "http://h:1" || v.Reason != "failed: [redacted]" {
		t.Errorf("%+v", v)
	}
}

// TestDecodeCreateNameCap: a create names at most maxCollectionNames
// collections (collection_infos, or db_collections in all); one more is a
// 400 naming the cap, however the names are spread.
func TestDecodeCreateNameCap(t *testing.T) {
	names := func(n int, prefix string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"name":"%s%d"}`, prefix, i)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	ok := createBody(`{"uri":"a:1"}`, `"collection_infos":`+names(1000, "c"))
	if _, err := decodeRequest([]byte(ok)); err != nil {
		t.Fatalf("1000 names: %v", err)
	}
	for name, body := range map[string]string{
		"collection_infos": createBody(`{"uri":"a:1"}`, `"collection_infos":`+names(1001, "c")),
		"db_collections":   createBody(`{"uri":"a:1"}`, `"db_collections":{"d1":`+names(600, "c")+`,"d2":`+names(401, "c")+`}`),
		"58k names":        createBody(`{"uri":"a:1"}`, `"collection_infos":`+names(58000, "c")),
	} {
		_, err := decodeRequest([]byte(body))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 400 || !strings.Contains(ae.Message, "at most 1000") {
			t.Errorf("%s over the cap: %v, want a 400 naming the cap of 1000", name, err)
		}
	}
}
