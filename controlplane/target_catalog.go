package controlplane

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// SourceCollections is what the source holds: collection IDs (a collection
// ID is never reused) and names.
type SourceCollections struct {
	IDs   map[int64]bool
	Names map[contract.CollectionRef]bool
}

// SourceCollectionIDs lists every collection of every database of the
// source Milvus behind api: planAdoption's sourceHas and sourceNamed are
// look-ups in it.
func SourceCollectionIDs(ctx context.Context, api milvuspb.MilvusServiceClient) (*SourceCollections, error) {
	dbs, err := api.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := contract.StatusErr(dbs.GetStatus(), err); err != nil {
		return nil, fmt.Errorf("list the source's databases: %w", err)
	}
	out := &SourceCollections{IDs: map[int64]bool{}, Names: map[contract.CollectionRef]bool{}}
	for _, db := range dbs.GetDbNames() {
		cols, err := api.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
		if err == nil && contract.NotFound(cols.GetStatus()) {
			continue // dropped since it was listed
		}
		if err := contract.StatusErr(cols.GetStatus(), err); err != nil {
			return nil, fmt.Errorf("list the collections of source database %s: %w", db, err)
		}
		for _, id := range cols.GetCollectionIds() {
			out.IDs[id] = true
		}
		for _, name := range cols.GetCollectionNames() {
			out.Names[contract.CollectionRef{DB: db, Name: name}] = true
		}
	}
	return out, nil
}

// milvusCatalog is TargetCatalog over a target Milvus's gRPC API.
type milvusCatalog struct{ api milvuspb.MilvusServiceClient }

// NewTargetCatalog reads and drops through api.
func NewTargetCatalog(api milvuspb.MilvusServiceClient) TargetCatalog { return milvusCatalog{api: api} }

func (m milvusCatalog) ListDatabases(ctx context.Context) ([]string, error) {
	resp, err := m.api.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetDbNames(), nil
}

func (m milvusCatalog) ListCollections(ctx context.Context, db string) ([]string, error) {
	resp, err := m.api.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err == nil && contract.NotFound(resp.GetStatus()) {
		return nil, nil // the database was dropped since it was listed
	}
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetCollectionNames(), nil
}

func (m milvusCatalog) DescribeCollection(ctx context.Context, db, name string) (*TargetCollection, error) {
	resp, err := m.api.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: name})
	if err == nil && contract.NotFound(resp.GetStatus()) {
		return nil, nil
	}
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	if resp.GetSchema().GetName() != name {
		return nil, nil // an alias: Milvus answers with the collection it names
	}
	c := &TargetCollection{Properties: map[string]string{}, Aliases: resp.GetAliases()}
	for _, kv := range resp.GetProperties() {
		c.Properties[kv.GetKey()] = kv.GetValue()
	}
	return c, nil
}

func (m milvusCatalog) DropAlias(ctx context.Context, db, alias string) error {
	resp, err := m.api.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: db, Alias: alias})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return contract.StatusErr(resp, err)
}

func (m milvusCatalog) DropCollection(ctx context.Context, db, name string) error {
	resp, err := m.api.DropCollection(ctx, &milvuspb.DropCollectionRequest{DbName: db, CollectionName: name})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return contract.StatusErr(resp, err)
}
