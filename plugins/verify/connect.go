package verify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
)

// side is one Milvus (source or target) with one client per database: a
// client is bound to its database at connect time, which is safer than
// switching one shared client with UsingDatabase while the other side's
// queries run concurrently.
type side struct {
	name    string // "source" or "target", for messages
	addr    string
	token   string
	timeout time.Duration

	mu      sync.Mutex
	clients map[string]client.Client
}

func newSide(name, addr, token string, timeout time.Duration) *side {
	return &side{name: name, addr: addr, token: token, timeout: timeout, clients: map[string]client.Client{}}
}

// client returns the client of database db, connecting on first use.
func (s *side) client(ctx context.Context, db string) (client.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[db]; ok {
		return c, nil
	}
	c, err := milvusconn.Dial(ctx, milvusconn.Params{Address: s.addr, Creds: contract.ParseToken(s.token), DBName: db, Timeout: s.timeout})
	if err != nil {
		return nil, fmt.Errorf("connect to %s Milvus at %s (database %q): %w", s.name, s.addr, db, err)
	}
	s.clients[db] = c
	return c, nil
}

// errorf wraps err with the side's name and address, so a failure says which
// Milvus it came from.
func (s *side) errorf(err error, format string, args ...any) error {
	return fmt.Errorf("%s %s: %s: %w", s.name, s.addr, fmt.Sprintf(format, args...), err)
}

func (s *side) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for db, c := range s.clients {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s client of database %q: %w", s.name, db, err))
		}
	}
	s.clients = map[string]client.Client{}
	return errors.Join(errs...)
}

// both runs fs and ft concurrently (one per side) and returns their errors
// joined.
func both(fs, ft func() error) error {
	var wg sync.WaitGroup
	var es, et error
	wg.Add(2)
	go func() { defer wg.Done(); es = fs() }()
	go func() { defer wg.Done(); et = ft() }()
	wg.Wait()
	return errors.Join(es, et)
}
