package milvus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// collectionRef names one source collection.
type collectionRef struct {
	DB   string
	Name string
}

// metaLister is the part of the Milvus gRPC API that name resolution needs.
type metaLister interface {
	ListDatabases(ctx context.Context) ([]string, error)
	ShowCollections(ctx context.Context, db string) (map[int64]string, error)
}

// sourceMeta maps CollectionIDs to database and collection names. The WAL of
// Milvus 2.3 carries no database name on DML messages, so the names come from
// the source's API. Entries are kept after a collection is dropped: the drop
// and the messages before it still need their names.
type sourceMeta struct {
	mu          sync.Mutex
	lister      metaLister
	byID        map[int64]collectionRef
	lastRefresh time.Time
	minInterval time.Duration
	warned      map[int64]bool // unknown IDs already logged (once, not per channel)
}

func newSourceMeta(l metaLister) *sourceMeta {
	return &sourceMeta{lister: l, byID: map[int64]collectionRef{}, warned: map[int64]bool{}, minInterval: 200 * time.Millisecond}
}

// firstWarning reports whether an unknown collection ID is seen for the
// first time, so each is logged once.
func (s *sourceMeta) firstWarning(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.warned[id]
	s.warned[id] = true
	return first
}

// resolve returns the names of a collection; found is false when the source
// does not know the ID (the collection was dropped before we learned it).
func (s *sourceMeta) resolve(ctx context.Context, id int64) (ref collectionRef, found bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.byID[id]; ok {
		return ref, true, nil
	}
	// A miss: refresh, but not more often than minInterval, so a stream of
	// messages of a dropped collection does not hammer the source.
	if time.Since(s.lastRefresh) >= s.minInterval {
		if err := s.refreshLocked(ctx); err != nil {
			return collectionRef{}, false, err
		}
	}
	ref, ok := s.byID[id]
	return ref, ok, nil
}

func (s *sourceMeta) refreshLocked(ctx context.Context) error {
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
			s.byID[id] = collectionRef{DB: db, Name: name}
		}
	}
	s.lastRefresh = time.Now()
	return nil
}

// grpcMetaLister implements metaLister with the raw Milvus gRPC service.
type grpcMetaLister struct {
	svc milvuspb.MilvusServiceClient
}

func (g grpcMetaLister) ListDatabases(ctx context.Context) ([]string, error) {
	resp, err := g.svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := statusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetDbNames(), nil
}

func (g grpcMetaLister) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	resp, err := g.svc.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err := statusErr(resp.GetStatus(), err); err != nil {
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

// statusErr folds a gRPC error and a Milvus status into one error.
func statusErr(st *commonpb.Status, err error) error {
	if err != nil {
		return err
	}
	if st != nil && st.GetErrorCode() != commonpb.ErrorCode_Success {
		return fmt.Errorf("milvus error %s: %s", st.GetErrorCode(), st.GetReason())
	}
	return nil
}
