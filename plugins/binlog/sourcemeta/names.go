// Package sourcemeta asks the source Milvus what its WAL leaves out: the
// names behind collection IDs (Catalog, Resolver), a new collection's
// consistency level and properties, and the current rows of keys (GRPC,
// Shapes) for the repair stage.
package sourcemeta

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Lister is the part of the Milvus gRPC API that name resolution needs.
type Lister interface {
	ListDatabases(ctx context.Context) ([]string, error)
	ShowCollections(ctx context.Context, db string) (map[int64]string, error)
	// DescribeCollection returns the consistency level and properties of a
	// collection; found is false when the source no longer has it.
	DescribeCollection(ctx context.Context, id int64) (level string, props map[string]string, found bool, err error)
}

// Catalog maps CollectionIDs to database and collection names. The WAL of
// Milvus 2.3 carries no database name on DML messages, so the names come from
// the source's API. Entries are kept after a collection is dropped: the drop
// and the messages before it still need their names.
type Catalog struct {
	mu           sync.Mutex
	lister       Lister
	byID         map[int64]contract.CollectionRef
	gone         map[int64]bool // IDs a refresh taken well after their message did not find
	lastRefresh  time.Time      // when the last successful refresh started
	minInterval  time.Duration
	createWindow time.Duration // how long after its message a new collection may still be unlisted
	maxWait      time.Duration // bound on waiting for a collection to be listed (clock skew)
	now          func() time.Time
	warned       map[int64]bool                   // unknown IDs already logged (once, not per channel)
	remembered   map[int64]contract.CollectionRef // names kept in the checkpoint (see knownNames)
}

func NewCatalog(l Lister) *Catalog {
	return &Catalog{
		lister: l, byID: map[int64]contract.CollectionRef{}, gone: map[int64]bool{}, warned: map[int64]bool{}, remembered: map[int64]contract.CollectionRef{},
		minInterval: 200 * time.Millisecond, createWindow: 2 * time.Second, maxWait: 10 * time.Second, now: time.Now,
	}
}

// Remember seeds names kept in the checkpoint, for collections the source
// may have dropped since.
func (s *Catalog) Remember(names map[int64]contract.CollectionRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ref := range names {
		s.remembered[id] = ref
	}
}

// FirstWarning reports whether an unknown collection ID is seen for the
// first time, so each is logged once.
func (s *Catalog) FirstWarning(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.warned[id]
	s.warned[id] = true
	return first
}

// Resolve returns the names of the collection of a message written at
// msgTime; found is false when the source does not know the ID (dropped
// before we learned it).
//
// Milvus writes a CreateCollection to the log before ShowCollections lists
// the collection, so a miss is only final once a refresh that started
// createWindow after the message (or maxWait after the first miss, should
// the clocks disagree) still does not list it. Old messages of dropped
// collections are thus settled by one refresh; a new collection is found by
// one of the refreshes polled every minInterval.
//
// gone is true (with found) when the source no longer has the collection but
// its names were remembered from the checkpoint.
func (s *Catalog) Resolve(ctx context.Context, id int64, msgTime time.Time) (ref contract.CollectionRef, found, gone bool, err error) {
	firstMiss := time.Time{}
	for {
		s.mu.Lock()
		if ref, ok := s.byID[id]; ok {
			s.mu.Unlock()
			return ref, true, false, nil
		}
		now := s.now()
		if firstMiss.IsZero() {
			firstMiss = now
		}
		if s.gone[id] || (!s.lastRefresh.IsZero() &&
			(s.lastRefresh.After(msgTime.Add(s.createWindow)) || s.lastRefresh.After(firstMiss.Add(s.maxWait)))) {
			s.gone[id] = true
			ref, remembered := s.remembered[id]
			s.mu.Unlock()
			return ref, remembered, remembered, nil
		}
		// Poll every minInterval until the question is settled.
		wait := s.minInterval - now.Sub(s.lastRefresh)
		if wait <= 0 || s.lastRefresh.Before(firstMiss) {
			err := s.refreshLocked(ctx)
			s.mu.Unlock()
			if err != nil {
				return contract.CollectionRef{}, false, false, err
			}
			continue
		}
		s.mu.Unlock()
		t := time.NewTimer(wait + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return contract.CollectionRef{}, false, false, ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Catalog) refreshLocked(ctx context.Context) error {
	started := s.now()
	dbs, err := s.lister.ListDatabases(ctx)
	if err != nil {
		return fmt.Errorf("list source databases: %w", err)
	}
	for _, db := range dbs {
		cols, err := s.lister.ShowCollections(ctx, db)
		if err != nil {
			return fmt.Errorf("list collections of source database %q: %w", db, err)
		}
		for id, name := range cols {
			s.byID[id] = contract.CollectionRef{DB: db, Name: name}
		}
	}
	s.lastRefresh = started
	return nil
}

// GRPC implements Lister and RowSource with the raw Milvus gRPC service.
type GRPC struct {
	Svc milvuspb.MilvusServiceClient
}

func (g GRPC) ListDatabases(ctx context.Context) ([]string, error) {
	resp, err := g.Svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetDbNames(), nil
}

func (g GRPC) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	resp, err := g.Svc.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	names, ids := resp.GetCollectionNames(), resp.GetCollectionIds()
	if len(names) != len(ids) {
		return nil, fmt.Errorf("source answered %d collection names but %d ids", len(names), len(ids))
	}
	out := make(map[int64]string, len(ids))
	for i, id := range ids {
		out[id] = names[i]
	}
	return out, nil
}

func (g GRPC) DescribeCollection(ctx context.Context, id int64) (string, map[string]string, bool, error) {
	resp, err := g.Svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{CollectionID: id})
	if err != nil {
		return "", nil, false, err
	}
	if st := resp.GetStatus(); st.GetErrorCode() != commonpb.ErrorCode_Success {
		// Gone (dropped): not an error, the caller falls back to defaults.
		if contract.NotFound(st) {
			return "", nil, false, nil
		}
		return "", nil, false, contract.StatusErr(st, nil)
	}
	props := map[string]string{}
	for _, kv := range resp.GetProperties() {
		props[kv.GetKey()] = kv.GetValue()
	}
	return resp.GetConsistencyLevel().String(), props, true, nil
}
