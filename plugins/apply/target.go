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
const ownerProperty = contract.PropSourceCollectionID

// replicationProperty names the replication (replication_id; a control-plane
// task's ID) that created or adopted a target collection: another
// replication's copies are not this one's to write to or drop.
const replicationProperty = contract.PropReplication

// clusterProperty names the source cluster a copy was made from
// (source_cluster): a copy of another cluster is never adopted.
const clusterProperty = contract.PropSourceCluster

// tagProperty reports whether k is one of the tags the output sets itself
// (never copied from, nor overwritten by, the source's properties).
func tagProperty(k string) bool {
	return k == ownerProperty || k == replicationProperty || k == clusterProperty
}

// targetColl is what the output knows about one target collection.
type targetColl struct {
	exists       bool
	aliasOf      string // the name is an alias of this collection (exists is false)
	owner        int64  // source collection ID; 0 = not tagged (created by someone else)
	replication  string // replicationProperty; "" on copies made before it existed
	cluster      string // clusterProperty; "" on copies made before it existed
	aliases      []string
	schema       *schemapb.CollectionSchema
	pk           *schemapb.FieldSchema
	partitionKey bool
	partitions   map[string]bool // known to exist
}

// targetMeta caches collection descriptions of the target.
type targetMeta struct {
	api   milvuspb.MilvusServiceClient
	colls map[contract.CollectionRef]*targetColl
	// noCopy: source collection IDs a scan of the whole target found no
	// copy of (until something is created, renamed or dropped).
	noCopy map[int64]bool
}

func newTargetMeta(api milvuspb.MilvusServiceClient) *targetMeta {
	return &targetMeta{api: api, colls: map[contract.CollectionRef]*targetColl{}, noCopy: map[int64]bool{}}
}

func (t *targetMeta) forget(ref contract.CollectionRef) {
	delete(t.colls, ref)
	clear(t.noCopy)
}

// findCopy looks through every target database for replication's copy of
// source collection id (copies are found by the ID they carry: a rename on
// the source keeps the ID).
func (t *targetMeta) findCopy(ctx context.Context, r replication, id int64) (contract.CollectionRef, bool, error) {
	var adopted *contract.CollectionRef // a copy this replication only adopted: its own wins
	for ref, c := range t.colls {
		if c.copies(r, id) {
			if !r.adopts(c) {
				return ref, true, nil
			}
			adopted = &ref
		}
	}
	if adopted != nil {
		return *adopted, true, nil
	}
	if t.noCopy[id] {
		return contract.CollectionRef{}, false, nil
	}
	dbs, err := t.api.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := statusError("list target databases", dbs.GetStatus(), err); err != nil {
		return contract.CollectionRef{}, false, err
	}
	for _, db := range dbs.GetDbNames() {
		cols, err := t.api.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
		if err := statusError("list target collections of "+db, cols.GetStatus(), err); err != nil {
			return contract.CollectionRef{}, false, err
		}
		for _, name := range cols.GetCollectionNames() {
			ref := contract.CollectionRef{DB: db, Name: name}
			c, err := t.collection(ctx, ref)
			if err != nil {
				return contract.CollectionRef{}, false, err
			}
			if c.copies(r, id) {
				if !r.adopts(c) {
					return ref, true, nil
				}
				if adopted == nil {
					adopted = &ref
				}
			}
		}
	}
	if adopted != nil {
		return *adopted, true, nil
	}
	t.noCopy[id] = true
	return contract.CollectionRef{}, false, nil
}

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
	if real := resp.GetSchema().GetName(); real != ref.Name {
		// Milvus answers an alias with the collection it names.
		c := &targetColl{aliasOf: real}
		t.colls[ref] = c
		return c, nil
	}
	c := &targetColl{exists: true, schema: resp.GetSchema(), partitions: map[string]bool{}, aliases: resp.GetAliases()}
	for _, kv := range resp.GetProperties() {
		switch kv.GetKey() {
		case ownerProperty:
			c.owner, _ = strconv.ParseInt(kv.GetValue(), 10, 64)
		case replicationProperty:
			c.replication = kv.GetValue()
		case clusterProperty:
			c.cluster = kv.GetValue()
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

// ours reports whether the target collection is this replication's: it
// created it, adopted it (see replication.adopts), or it is a copy tagged
// before replication tags existed.
func (c *targetColl) ours(r replication) bool {
	return c.exists && c.owner != 0 && (c.replication == "" || c.replication == r.id || r.adopts(c))
}

// copies reports whether the target collection is this replication's copy of
// source collection id (any of its incarnations when the message carries no
// ID).
func (c *targetColl) copies(r replication, id int64) bool {
	return c.ours(r) && (id == 0 || c.owner == id)
}

// notOurs is the permanent error for a message whose target collection
// exists but was not created by this replication: nothing is written to it.
func notOurs(st *applyStep, tc *targetColl) error {
	who := "was not created by replication (it carries no " + ownerProperty + " tag)"
	switch {
	case tc.owner != 0 && tc.cluster != "":
		who = fmt.Sprintf("is the copy made by another replication (%s %q, from source cluster %q)", replicationProperty, tc.replication, tc.cluster)
	case tc.owner != 0:
		who = fmt.Sprintf("is the copy made by another replication (%s %q)", replicationProperty, tc.replication)
	}
	return permanentf("%s: the target collection %s.%s %s: nothing is written to it or dropped. "+
		"Rename or drop it on the target, or map this collection elsewhere (collection_mapping / database_mapping), then resume",
		st, st.target.DB, st.target.Name, who)
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
