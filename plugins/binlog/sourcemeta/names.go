// Package sourcemeta asks the source Milvus what its WAL leaves out: the
// names behind collection IDs (Catalog, Resolver), a new collection's
// consistency level and properties, and the current rows of keys (GRPC,
// Shapes) for the repair stage.
package sourcemeta

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Lister is the part of the Milvus gRPC API that name resolution needs.
type Lister interface {
	ListDatabases(ctx context.Context) ([]string, error)
	ShowCollections(ctx context.Context, db string) (map[int64]string, error)
	// DescribeID describes a collection by ID as of hybrid timestamp ts
	// (0: now); Found is false when it did not exist then.
	DescribeID(ctx context.Context, id int64, ts uint64) (Description, error)
	// DescribeAt describes a collection by ID in database db as of ts.
	DescribeAt(ctx context.Context, db string, id int64, ts uint64) (Description, error)
	// DescribeName describes a collection (or alias) by name, now.
	DescribeName(ctx context.Context, db, name string) (int64, Description, error)
}

// Rename is a collection whose names changed between two listings of the
// source (Milvus 2.3 logs no RenameCollection; the ID stays).
type Rename struct {
	ID       int64
	From, To contract.CollectionRef
}

// Catalog maps CollectionIDs to database and collection names. The WAL of
// Milvus 2.3 carries no database name on DML messages, so the names come from
// the source's API. Entries are kept after a collection is dropped: the drop
// and the messages before it still need their names.
type Catalog struct {
	mu          sync.Mutex
	lister      Lister
	byID        map[int64]contract.CollectionRef
	gone        map[int64]contract.CollectionRef // IDs the source no longer has (names when known)
	lastRefresh time.Time                        // when the last successful refresh started
	minInterval time.Duration
	maxWait     time.Duration // bound on waiting for a collection the source does not know yet
	now         func() time.Time
	warned      map[int64]bool // unknown IDs already logged (once, not per channel)
	streamed    *Names         // the streamed collections' names, kept in the checkpoint
	renames     []Rename       // seen by a refresh, not yet taken
	// named holds every ID each name was seen with (a name reused after a
	// drop, or freed by a rename, names several).
	named map[contract.CollectionRef]map[int64]bool
}

// NewCatalog returns the catalog of the source l lists; streamed (nil: a
// new registry) holds the names of the streamed collections.
func NewCatalog(l Lister, streamed *Names) *Catalog {
	if streamed == nil {
		streamed = NewNames(nil)
	}
	return &Catalog{
		lister: l, byID: map[int64]contract.CollectionRef{}, gone: map[int64]contract.CollectionRef{}, warned: map[int64]bool{},
		streamed: streamed, named: map[contract.CollectionRef]map[int64]bool{}, minInterval: 200 * time.Millisecond, maxWait: 30 * time.Second, now: time.Now,
	}
}

// Remember registers streamed collections: names kept in the checkpoint
// (for collections the source may have dropped or renamed since) or
// collections just copied.
func (s *Catalog) Remember(names map[int64]contract.CollectionRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ref := range names {
		s.streamed.Seen(id, ref)
		s.nameLocked(id, ref)
	}
}

// Streamed is the registry of the streamed collections' names.
func (s *Catalog) Streamed() *Names { return s.streamed }

// FirstWarning reports whether an unknown collection ID is seen for the
// first time, so each is logged once.
func (s *Catalog) FirstWarning(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.warned[id]
	s.warned[id] = true
	return first
}

// Resolve returns the names of collection id for a message with hybrid
// timestamp ts; found is false when they cannot be known (a collection
// dropped before this reader learned its names). gone is true when the
// source no longer has the collection. create tells a CreateCollection.
//
// Whether a collection is gone is decided by its ID, never by how soon a
// listing shows it: Milvus writes a CreateCollection to the log before
// ShowCollections lists the collection, and a coordinator can be slow. An
// unlisted ID the source describes now is polled for (every minInterval)
// until listed. One it does not describe now is gone when the message is
// a write or a drop (rows are only written to a created collection), or
// when the source knows it as of the message's timestamp; otherwise it is
// a collection still being created, polled for until maxWait has passed on
// this worker's clock (a creation that failed leaves no rows behind).
func (s *Catalog) Resolve(ctx context.Context, id int64, ts uint64, create bool) (ref contract.CollectionRef, found, gone bool, err error) {
	var firstMiss time.Time
	for {
		s.mu.Lock()
		if ref, ok := s.byID[id]; ok {
			if _, dropped := s.gone[id]; !dropped {
				s.mu.Unlock()
				return ref, true, false, nil
			}
		}
		if ref, dropped := s.gone[id]; dropped {
			s.mu.Unlock()
			return ref, ref.DB != "", true, nil
		}
		refreshed := false
		if s.now().Sub(s.lastRefresh) >= s.minInterval {
			if err := s.refreshLocked(ctx); err != nil {
				s.mu.Unlock()
				return contract.CollectionRef{}, false, false, err
			}
			refreshed = true
		}
		if ref, ok := s.byID[id]; ok {
			s.mu.Unlock()
			return ref, true, false, nil
		}
		s.mu.Unlock()
		if refreshed {
			settled, err := s.settle(ctx, id, ts, create, &firstMiss)
			if err != nil || settled {
				s.mu.Lock()
				ref, dropped := s.gone[id]
				s.mu.Unlock()
				return ref, dropped && ref.DB != "", dropped, err
			}
		}
		t := time.NewTimer(s.minInterval + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return contract.CollectionRef{}, false, false, ctx.Err()
		case <-t.C:
		}
	}
}

// settle asks the source about an ID a fresh listing did not show; true
// when it is known to be gone (recorded in s.gone).
func (s *Catalog) settle(ctx context.Context, id int64, ts uint64, create bool, firstMiss *time.Time) (bool, error) {
	now, err := s.lister.DescribeID(ctx, id, 0)
	if err != nil {
		return false, fmt.Errorf("describe source collection %d: %w", id, err)
	}
	if now.Found {
		return false, nil // alive: the next listing shows it
	}
	then := s.describeThen(ctx, id, ts)
	if !create || then.Found {
		s.markGone(id, then.Name) // dropped since the message
		return true, nil
	}
	if firstMiss.IsZero() {
		*firstMiss = s.now()
	}
	if s.now().Sub(*firstMiss) < s.maxWait {
		return false, nil // not created yet
	}
	s.markGone(id, "")
	return true, nil
}

// describeThen describes collection id as of ts, in each database it may
// have been in (the source finds a dropped collection only in its own);
// best effort: it only names what is gone.
func (s *Catalog) describeThen(ctx context.Context, id int64, ts uint64) Description {
	s.mu.Lock()
	dbs := map[string]bool{"": true}
	if ref, ok := s.streamed.Lookup(id); ok {
		dbs[ref.DB] = true
	}
	for _, ref := range s.byID {
		dbs[ref.DB] = true
	}
	s.mu.Unlock()
	for db := range dbs {
		if d, err := s.lister.DescribeAt(ctx, db, id, ts); err == nil && d.Found {
			return d
		}
	}
	return Description{}
}

func (s *Catalog) markGone(id int64, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.streamed.Lookup(id)
	if !ok {
		ref = contract.CollectionRef{Name: name} // database unknown
	}
	s.gone[id] = ref
}

// Current returns the names the latest listing gave collection id.
func (s *Catalog) Current(id int64) (contract.CollectionRef, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dropped := s.gone[id]; dropped {
		return contract.CollectionRef{}, false
	}
	ref, ok := s.byID[id]
	return ref, ok
}

// IDsNamed returns every collection ID ref was seen naming, and the IDs in
// also, once each, newest (highest ID: Milvus allocates them in increasing
// order) first.
func (s *Catalog) IDsNamed(ref contract.CollectionRef, also ...int64) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.named[ref])+len(also))
	for id := range s.named[ref] {
		ids = append(ids, id)
	}
	for _, id := range also {
		if !s.named[ref][id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	return ids
}

func (s *Catalog) nameLocked(id int64, ref contract.CollectionRef) {
	if s.named[ref] == nil {
		s.named[ref] = map[int64]bool{}
	}
	s.named[ref][id] = true
}

// Refresh lists the source again unless a listing is younger than maxAge.
func (s *Catalog) Refresh(ctx context.Context, maxAge time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().Sub(s.lastRefresh) < maxAge {
		return nil
	}
	return s.refreshLocked(ctx)
}

// TakeRenames returns the renames seen since the last call.
func (s *Catalog) TakeRenames() []Rename {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.renames
	s.renames = nil
	return out
}

func (s *Catalog) refreshLocked(ctx context.Context) error {
	started := s.now()
	dbs, err := s.lister.ListDatabases(ctx)
	if err != nil {
		return fmt.Errorf("list source databases: %w", err)
	}
	listed := map[int64]contract.CollectionRef{}
	for _, db := range dbs {
		cols, err := s.lister.ShowCollections(ctx, db)
		if err != nil {
			return fmt.Errorf("list collections of source database %q: %w", db, err)
		}
		for id, name := range cols {
			listed[id] = contract.CollectionRef{DB: db, Name: name}
		}
	}
	for id, ref := range listed {
		old, had := s.byID[id]
		if !had {
			old, had = s.streamed.Lookup(id)
		}
		if had && old != ref {
			s.renames = append(s.renames, Rename{ID: id, From: old, To: ref})
		}
		s.byID[id] = ref
		s.nameLocked(id, ref)
	}
	s.lastRefresh = started
	return nil
}
