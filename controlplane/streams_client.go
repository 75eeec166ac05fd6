package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// StreamsClient talks to the streams REST API of one worker
// (`milvus-cdc streams`).
type StreamsClient struct {
	base     string
	http     *http.Client
	password string // basic auth (user milvus-cdc) of a worker beyond loopback; "" = none
	// keyring signs every stream config posted (contract.GrantHeader): the
	// worker's gateway runs only configs its control plane signed.
	keyring contract.Keyring
}

// WorkerUser is the basic-auth user of a worker's streams API.
const WorkerUser = "milvus-cdc"

// NewStreamsClient talks to the worker at base, with password when not "",
// signing the stream configs it posts with keyring (the task store's).
func NewStreamsClient(base, password string, keyring contract.Keyring) *StreamsClient {
	return &StreamsClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 15 * time.Second}, password: password, keyring: keyring}
}

// StreamStatus is what GET /streams says of one stream.
type StreamStatus struct {
	Active bool    `json:"active"`
	Uptime float64 `json:"uptime"`
}

// List returns the worker's streams.
func (c *StreamsClient) List(ctx context.Context) (map[string]StreamStatus, error) {
	var out map[string]StreamStatus
	if err := c.do(ctx, http.MethodGet, "/streams", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Label returns the input label of stream id (whose store started it).
func (c *StreamsClient) Label(ctx context.Context, id string) (string, error) {
	var out struct {
		Config struct {
			Input struct {
				Label string `json:"label"`
			} `json:"input"`
		} `json:"config"`
	}
	if err := c.do(ctx, http.MethodGet, "/streams/"+url.PathEscape(id), nil, &out); err != nil {
		return "", err
	}
	return out.Config.Input.Label, nil
}

// Create starts a stream from a YAML config, signed for id.
func (c *StreamsClient) Create(ctx context.Context, id string, config []byte) error {
	grant, err := c.keyring.GrantStream(id, config)
	if err != nil {
		return fmt.Errorf("sign the config of stream %s: %w", id, err)
	}
	return c.do(ctx, http.MethodPost, "/streams/"+url.PathEscape(id), config, nil, grant)
}

// deleteTimeout bounds a stream's stop on the worker (DELETE ?timeout=),
// inside the client's own timeout.
const deleteTimeout = 10 * time.Second

// Delete stops and removes a stream; a missing stream is not an error. The
// worker stops it gracefully for 3/4 of deleteTimeout, then without waiting
// for its last batch: a failed output never gives that batch back, so a
// graceful stop alone would never end. Nothing is lost either way: an
// output acknowledges only what it applied, and the checkpoint follows.
func (c *StreamsClient) Delete(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/streams/"+url.PathEscape(id)+"?timeout="+deleteTimeout.String(), nil, nil)
	var he *httpStatusError
	if errors.As(err, &he) && he.status == http.StatusNotFound {
		return nil
	}
	return err
}

type httpStatusError struct {
	status int
	body   string
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// do sends one request; grant (of a posted config) goes in contract.GrantHeader.
func (c *StreamsClient) do(ctx context.Context, method, path string, body []byte, out any, grant ...string) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		// Not a "simple" type: a browser cannot send it without a preflight.
		req.Header.Set("Content-Type", "application/yaml")
	}
	for _, g := range grant {
		req.Header.Set(contract.GrantHeader, g)
	}
	if c.password != "" {
		req.SetBasicAuth(WorkerUser, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("worker %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("worker %s %s %s: %w", c.base, method, path, &httpStatusError{status: resp.StatusCode, body: strings.TrimSpace(string(b))})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("worker %s %s: %w", c.base, path, err)
		}
	}
	return nil
}
