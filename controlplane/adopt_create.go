package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// sourceCluster names the source, and this control plane's task store, in
// the copies' tags (milvus_cdc.source_cluster, contract.CopyOrigin).
func (m *Manager) sourceCluster() string {
	return contract.CopyOrigin(contract.SourceCluster(m.src.Address, m.src.ClusterPrefix), m.storeID)
}

// selects returns whether a task selecting patterns (collectionPatterns)
// copies the collection db.name.
func selects(patterns []string) func(db, name string) bool {
	return func(db, name string) bool { return overlaps(patterns, []string{db + "." + name}) }
}

// planCreateAdoption looks at the new task's target before it is created:
// the copies that earlier tasks of this source cluster left there and no
// stored task holds are adopted (the task's snapshot makes each equal to the
// source again), and those whose source collection is gone are dropped (as
// the stream would have dropped them). A copy held by another task, or made
// from another source cluster, refuses the create (409).
func (m *Manager) planCreateAdoption(ctx context.Context, req CreateRequest) (Adoption, error) {
	tasks, err := m.store.List(ctx)
	if err != nil {
		return Adoption{}, err
	}
	live := make([]LiveTask, 0, len(tasks))
	for _, t := range tasks {
		live = append(live, LiveTask{ID: t.ID, Adopted: t.Adopted, Selects: selects(collectionPatterns(t))})
	}
	cat, closeTarget, err := m.dialCatalog(ctx, req.Target)
	if err != nil {
		return Adoption{}, Errorf(http.StatusBadRequest, "cannot read the target's collections: %v", err)
	}
	defer closeTarget()
	var source *SourceCollections // read once, when a copy asks
	read := func(ctx context.Context) error {
		if source != nil {
			return nil
		}
		s, err := m.sourceIDs(ctx)
		if err != nil {
			return err
		}
		source = s
		return nil
	}
	sourceHas := func(ctx context.Context, id int64) (bool, error) {
		if err := read(ctx); err != nil {
			return false, err
		}
		return source.IDs[id], nil
	}
	sourceNamed := func(ctx context.Context, db, name string) (bool, error) {
		if err := read(ctx); err != nil {
			return false, err
		}
		return source.Names[contract.CollectionRef{DB: db, Name: name}], nil
	}
	candidate := Task{CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections}
	a, err := planAdoption(ctx, cat, m.sourceCluster(), live, sourceHas, selects(collectionPatterns(candidate)), sourceNamed)
	var cf *AdoptionConflict
	if errors.As(err, &cf) {
		return Adoption{}, cf.API()
	}
	if err != nil {
		return Adoption{}, Errorf(http.StatusServiceUnavailable, "cannot tell which copies on the target this task may take over: %v", err)
	}
	if len(a.Stale) > 0 {
		dropped, err := DropStale(ctx, cat, m.sourceCluster(), a)
		if err != nil {
			return Adoption{}, Errorf(http.StatusServiceUnavailable, "cannot drop the copies whose source collection is gone: %v", err)
		}
		if len(dropped) > 0 {
			m.log.Info("dropped copies whose source collection no longer exists", "copies", fmt.Sprint(dropped))
		}
	}
	return a, nil
}

// sourceParam is the source Milvus as a connect param (for reading its
// collection IDs).
func (m *Manager) sourceParam() ConnectParam {
	uri := m.src.Address
	if m.src.TLS.Enabled && !strings.Contains(uri, "://") {
		uri = "https://" + uri
	}
	return ConnectParam{URI: uri, Token: m.src.Token, EnableTLS: m.src.TLS.Enabled}
}

// readSourceIDs lists every collection on the source.
func (m *Manager) readSourceIDs(ctx context.Context) (*SourceCollections, error) {
	api, closeSource, err := dialMilvus(ctx, m.sourceParam())
	if err != nil {
		return nil, fmt.Errorf("the source: %w", err)
	}
	defer closeSource()
	return SourceCollectionIDs(ctx, api)
}
