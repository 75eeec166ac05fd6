package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Workers is the workers' streams REST API as the reconciler uses it: the
// workers, named by their base URLs, and the streams each runs. httpWorkers
// talks to real workers; the unit tests use an in-memory fake.
type Workers interface {
	// Names lists the workers, sorted.
	Names() []string
	// List returns the streams a worker runs (an error: unreachable now).
	List(ctx context.Context, worker string) (map[string]StreamStatus, error)
	// Label returns the input label of a worker's stream (whose store and
	// run started it).
	Label(ctx context.Context, worker, id string) (string, error)
	// Create starts a stream from its config on a worker.
	Create(ctx context.Context, worker, id string, config []byte) error
	// Delete stops and removes a stream; a missing one is not an error.
	Delete(ctx context.Context, worker, id string) error
}

// httpWorkers is Workers over each worker's streams API.
type httpWorkers map[string]*StreamsClient

// newHTTPWorkers talks to the workers at bases (with password when it is
// set), signing the stream configs it posts with keyring.
func newHTTPWorkers(bases []string, password string, keyring contract.Keyring) httpWorkers {
	ws := httpWorkers{}
	for _, b := range bases {
		ws[b] = NewStreamsClient(b, password, keyring)
	}
	return ws
}

func (w httpWorkers) Names() []string {
	names := make([]string, 0, len(w))
	for b := range w {
		names = append(names, b)
	}
	slices.Sort(names)
	return names
}

func (w httpWorkers) client(worker string) (*StreamsClient, error) {
	c, ok := w[worker]
	if !ok {
		return nil, fmt.Errorf("unknown worker %s (known: %s)", worker, strings.Join(w.Names(), ", "))
	}
	return c, nil
}

func (w httpWorkers) List(ctx context.Context, worker string) (map[string]StreamStatus, error) {
	c, err := w.client(worker)
	if err != nil {
		return nil, err
	}
	return c.List(ctx)
}

func (w httpWorkers) Label(ctx context.Context, worker, id string) (string, error) {
	c, err := w.client(worker)
	if err != nil {
		return "", err
	}
	return c.Label(ctx, id)
}

func (w httpWorkers) Create(ctx context.Context, worker, id string, config []byte) error {
	c, err := w.client(worker)
	if err != nil {
		return err
	}
	return c.Create(ctx, id, config)
}

func (w httpWorkers) Delete(ctx context.Context, worker, id string) error {
	c, err := w.client(worker)
	if err != nil {
		return err
	}
	return c.Delete(ctx, id)
}
