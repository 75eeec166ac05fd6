package apply

import (
	"context"
	"fmt"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// ownerProperty tags a target collection with the ID of the source
// collection it copies. Collection IDs only grow, so when a name is reused
// on the source the output can tell an old incarnation's late messages (and
// a replay's) from the current one's.
const ownerProperty = "milvus_cdc.source_collection_id"

// targetColl is what the output knows about one target collection.
type targetColl struct {
	exists       bool
	owner        int64 // source collection ID; 0 = not tagged (created by someone else)
	schema       *schemapb.CollectionSchema
	pk           *schemapb.FieldSchema
	partitionKey bool
	partitions   map[string]bool // known to exist
}

// targetMeta caches collection descriptions of the target.
type targetMeta struct {
	api   milvuspb.MilvusServiceClient
	colls map[contract.CollectionRef]*targetColl
}

func newTargetMeta(api milvuspb.MilvusServiceClient) *targetMeta {
	return &targetMeta{api: api, colls: map[contract.CollectionRef]*targetColl{}}
}

func (t *targetMeta) forget(ref contract.CollectionRef) { delete(t.colls, ref) }

// collection describes a target collection (cached).
func (t *targetMeta) collection(ctx context.Context, ref contract.CollectionRef) (*targetColl, error) {
	if c, ok := t.colls[ref]; ok {
		return c, nil
	}
	resp, err := t.api.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: ref.DB, CollectionName: ref.Name})
	if err == nil && contract.NotFound(resp.GetStatus()) {
		c := &targetColl{}
		t.colls[ref] = c
		return c, nil
	}
	if err := statusError(fmt.Sprintf("describe target collection %s.%s", ref.DB, ref.Name), resp.GetStatus(), err); err != nil {
		if isPermanent(err) && !databaseExists(ctx, t.api, ref.DB) {
			c := &targetColl{} // the database is missing, so is the collection
			t.colls[ref] = c
			return c, nil
		}
		return nil, err
	}
	c := &targetColl{exists: true, schema: resp.GetSchema(), partitions: map[string]bool{}}
	for _, kv := range resp.GetProperties() {
		if kv.GetKey() == ownerProperty {
			c.owner, _ = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
	}
	for _, f := range c.schema.GetFields() {
		if f.GetIsPrimaryKey() {
			c.pk = f
		}
		if f.GetIsPartitionKey() {
			c.partitionKey = true
		}
	}
	if c.pk == nil {
		return nil, permanentf("target collection %s.%s has no primary key field", ref.DB, ref.Name)
	}
	parts, err := t.api.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: ref.DB, CollectionName: ref.Name})
	if err := statusError(fmt.Sprintf("list partitions of target collection %s.%s", ref.DB, ref.Name), parts.GetStatus(), err); err != nil {
		return nil, err
	}
	for _, p := range parts.GetPartitionNames() {
		c.partitions[p] = true
	}
	t.colls[ref] = c
	return c, nil
}

// copies reports whether the target collection may receive messages of
// source collection id: it copies that collection, or is untagged (created
// by someone else), or the message carries no ID.
func (c *targetColl) copies(id int64) bool {
	return c.owner == 0 || id == 0 || c.owner == id
}

// databaseExists is a best-effort check used to explain a failed describe.
func databaseExists(ctx context.Context, api milvuspb.MilvusServiceClient, db string) bool {
	resp, err := api.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err != nil || statusError("list databases", resp.GetStatus(), nil) != nil {
		return true // unknown: assume it exists, keep the original error
	}
	for _, d := range resp.GetDbNames() {
		if d == db {
			return true
		}
	}
	return false
}
