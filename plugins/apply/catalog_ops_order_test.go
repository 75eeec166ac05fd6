package apply

import (
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Orders of catalog events that once lost or blocked a change (each test
// failed before its fix).

// TestRenameOntoOwnAlias: on the source, alias x of a is dropped, then a is
// renamed to x. The target must end with the copy named x and no alias x.
//
// Was: the drop_alias names x, so locate describes db1.x; Milvus answers the
// alias with the copy itself, and targetMeta caches it as the copy named x.
// The rename then finds "the copy at the new name" and returns as renamed
// already (a replay of it too): the copy stays named a for good.
func TestRenameOntoOwnAlias(t *testing.T) {

	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addAlias("db1", "x", "a")
	w := catalogWriter(t, fake)

	mustWrite(t, w, aliasMsg(t, contract.OpDropAlias, "db1", "x", 7, "x"), renameMsg(t, "db1", "x", 7, "db1.a"))
	wantCopy(t, fake, "db1", "x", 7)
	wantNoCollection(t, fake, "db1", "a")
	if got := fake.aliasOf("db1", "x"); got != "" {
		t.Errorf("alias x still names %q", got)
	}
}

// TestCreateCollectionAtOwnAlias: on the source, alias x of c (8) is dropped
// and a collection x (9) created; the create comes from the WAL, the
// drop_alias from a later catalog check. The target must get collection x
// (copy of 9) and keep c.
//
// Was: targetMeta.collection takes the alias x for copy 8 named x, so
// createCollection "replaces an older incarnation": DropCollection of x,
// which Milvus refuses ("cannot drop the collection via alias"), retried
// until max_retry_duration, then the output stops.
func TestCreateCollectionAtOwnAlias(t *testing.T) {

	fake := newFakeTarget()
	fake.addCopy("db1", "c", 8)
	fake.addAlias("db1", "x", "c")
	w := catalogWriter(t, fake)
	schema, err := proto.Marshal(fakeSchema("x"))
	if err != nil {
		t.Fatal(err)
	}
	create := &msgpb.CreateCollectionRequest{CollectionName: "x", CollectionID: 9, Schema: schema, VirtualChannelNames: []string{"ch_0"}}

	mustWrite(t, w, catalogMsgWith(t, contract.OpCreateCollection, create, "db1", "x", 9),
		aliasMsg(t, contract.OpDropAlias, "db1", "c", 8, "x"))
	wantCopy(t, fake, "db1", "x", 9)
	wantCopy(t, fake, "db1", "c", 8)
}

// TestReleaseKeepsOtherPendingLoads: p1 and p2 are loaded before the copy has
// an index, then p1 is released: once the index comes, p2 must be loaded.
//
// Was: releasePartitions clears the whole pendingLoad, not only the
// partitions it releases.
func TestReleaseKeepsOtherPendingLoads(t *testing.T) {

	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	index := &milvuspb.CreateIndexRequest{CollectionName: "a", FieldName: "v", IndexName: "v_idx"}
	mustWrite(t, w,
		catalogMsg(t, contract.OpLoadPartitions, "db1", "a", 7, contract.MetaPartitions, "p1,p2"),
		catalogMsg(t, contract.OpReleasePartitions, "db1", "a", 7, contract.MetaPartitions, "p1"),
		catalogMsgWith(t, contract.OpCreateIndex, index, "db1", "a", 7))
	if c := fake.coll("db1", "a"); c.loaded["p1"] || !c.loaded["p2"] {
		t.Errorf("loaded %v, want p2 only", c.loaded)
	}
}

// TestPendingLoadSurvivesRename: p1 is loaded before the copy has an index,
// the collection is renamed, then its index comes: p1 must be loaded.
//
// Was: the pending load lives in the targetMeta cache entry of the old name,
// which renameCollection forgets (so does any forget, and a restart).
func TestPendingLoadSurvivesRename(t *testing.T) {

	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	index := &milvuspb.CreateIndexRequest{CollectionName: "b", FieldName: "v", IndexName: "v_idx"}
	mustWrite(t, w,
		catalogMsg(t, contract.OpLoadPartitions, "db1", "a", 7, contract.MetaPartitions, "p1"),
		renameMsg(t, "db1", "b", 7, "db1.a"),
		catalogMsgWith(t, contract.OpCreateIndex, index, "db1", "b", 7))
	if c := wantCopy(t, fake, "db1", "b", 7); !c.loaded["p1"] {
		t.Errorf("loaded %v after the index, want p1", c.loaded)
	}
}

// TestYoungCollectionSettledBeforeDrop: a collection this writer created
// moments ago is flushed before its drop (the target's data node must have
// watched its channels, see settleYoung); one it did not create just now is
// dropped without a flush.
//
// Was: create, rows and drop reached the target within 400 ms; the drop came
// while the data node was seeking the collection's channels, the seek never
// ended, and no flush or load on the target succeeded again.
func TestYoungCollectionSettledBeforeDrop(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "old", 7)
	w := catalogWriter(t, fake)
	schema, err := proto.Marshal(fakeSchema("x"))
	if err != nil {
		t.Fatal(err)
	}
	create := &msgpb.CreateCollectionRequest{CollectionName: "x", CollectionID: 9, Schema: schema, VirtualChannelNames: []string{"ch_0"}}
	mustWrite(t, w, catalogMsgWith(t, contract.OpCreateCollection, create, "db1", "x", 9))
	wantCopy(t, fake, "db1", "x", 9)
	mustWrite(t, w, catalogMsg(t, contract.OpDropCollection, "db1", "x", 9), catalogMsg(t, contract.OpDropCollection, "db1", "old", 7))
	wantNoCollection(t, fake, "db1", "x")
	wantNoCollection(t, fake, "db1", "old")
	if len(fake.flushed) != 1 || fake.flushed[0] != "db1.x" {
		t.Errorf("flushed before the drops: %v, want [db1.x] (the young copy only)", fake.flushed)
	}
}
