package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// FuzzDecodeRequest feeds arbitrary bodies to the decoder (and the handler
// around it). Seeds: testdata/fuzz/FuzzDecodeRequest. Invariants: no panic;
// an error is a short 400; an accepted request is complete and valid, and
// validating it again changes nothing; the handler answers every body with
// JSON whose code equals the HTTP status, and never a 500.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(createStar))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRequest(body)
		if err != nil {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest || apiErr.Message == "" {
				t.Fatalf("error is not a 400 APIError: %#v", err)
			}
			if len(apiErr.Message) > 1024 {
				t.Fatalf("message of %d bytes", len(apiErr.Message))
			}
		} else {
			checkAcceptedRequest(t, req)
		}

		h := NewHandler(newHTTPFakeService(), HandlerOptions{})
		rec := httptest.NewRecorder()
		hreq := httptest.NewRequest(http.MethodPost, "http://localhost:8444/cdc", bytes.NewReader(body))
		hreq.Header.Set("Content-Type", "application/json") // past the browser checks, into the decoder
		h.ServeHTTP(rec, hreq)
		var out struct {
			Code int `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Code != rec.Code {
			t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

func checkAcceptedRequest(t *testing.T, req cdcRequest) {
	t.Helper()
	switch req.Type {
	case requestList:
	case requestGet, requestPause, requestResume, requestDelete, requestPosition:
		if validateTaskID(req.TaskID) != nil {
			t.Fatalf("accepted task id %q", req.TaskID)
		}
	case requestCreate:
		again, err := validateCreate(req.Create)
		if err != nil || !reflect.DeepEqual(again, req.Create) {
			t.Fatalf("normalized create does not validate to itself: %v\n%+v\n%+v", err, req.Create, again)
		}
		c := req.Create
		if c.Target.ConnectTimeout < 1 || c.Target.ConnectTimeout > maxConnectTimeout {
			t.Fatalf("connect_timeout %d", c.Target.ConnectTimeout)
		}
		if (len(c.CollectionInfos) == 0) == (len(c.DBCollections) == 0) {
			t.Fatalf("collections: %+v", c)
		}
		names := len(c.CollectionInfos)
		for _, cs := range c.DBCollections {
			names += len(cs)
		}
		if names > maxCollectionNames {
			t.Fatalf("accepted %d collection names", names)
		}
		if c.Target.URI == "" && (c.Target.Host == "" || c.Target.Port < 1 || c.Target.Port > 65535) {
			t.Fatalf("target: %+v", c.Target)
		}
		if req.TaskID != c.TaskID {
			t.Fatalf("task id %q vs %q", req.TaskID, c.TaskID)
		}
	default:
		t.Fatalf("accepted request type %q", req.Type)
	}
}
