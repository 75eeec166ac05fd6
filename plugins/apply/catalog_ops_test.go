package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// catalogWriter returns an output of replication r1 connected to fake; a
// transient error turns permanent after 2s (a test never hangs on one).
func catalogWriter(t *testing.T, fake *fakeTarget) *applyWriter {
	t.Helper()
	return writerFor(t, fake, maoFieldReplicationID+": r1",
		maoFieldRetryBackoff+": { initial_interval: 10ms, max_interval: 50ms }", maoFieldMaxRetry+": 2s")
}

// catalogMsg is a milvus_binlog message of op on source collection id,
// named db.coll, with extra metadata as key, value pairs.
func catalogMsg(t *testing.T, op, db, coll string, id int64, extra ...string) *service.Message {
	t.Helper()
	return catalogMsgWith(t, op, &msgpb.InsertRequest{}, db, coll, id, extra...)
}

func catalogMsgWith(t *testing.T, op string, payload proto.Message, db, coll string, id int64, extra ...string) *service.Message {
	t.Helper()
	meta := map[string]string{contract.MetaDB: db, contract.MetaCollection: coll, contract.MetaCollectionID: fmt.Sprint(id)}
	for i := 0; i+1 < len(extra); i += 2 {
		meta[extra[i]] = extra[i+1]
	}
	return walMsg(t, op, payload, meta)
}

func renameMsg(t *testing.T, db, coll string, id int64, from string) *service.Message {
	return catalogMsg(t, contract.OpRenameCollection, db, coll, id, contract.MetaRenamedFrom, from)
}

func aliasMsg(t *testing.T, op, db, coll string, id int64, alias string) *service.Message {
	return catalogMsg(t, op, db, coll, id, contract.MetaAlias, alias)
}

// write applies msgs as one batch.
func write(t *testing.T, w *applyWriter, msgs ...*service.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return w.WriteBatch(ctx, service.MessageBatch(msgs))
}

func mustWrite(t *testing.T, w *applyWriter, msgs ...*service.Message) {
	t.Helper()
	if err := write(t, w, msgs...); err != nil {
		t.Fatal(err)
	}
}

// wantCopy fails unless db.name is a collection tagged as r1's copy of
// source collection id.
func wantCopy(t *testing.T, fake *fakeTarget, db, name string, id int64) *fakeColl {
	t.Helper()
	c := fake.coll(db, name)
	if c == nil {
		t.Fatalf("the target has no collection %s.%s (it has %s: %v)", db, name, db, fake.collections(db))
	}
	if c.props[ownerProperty] != fmt.Sprint(id) || c.props[replicationProperty] != "r1" {
		t.Fatalf("%s.%s is tagged %v, want the copy of %d by r1", db, name, c.props, id)
	}
	return c
}

func wantNoCollection(t *testing.T, fake *fakeTarget, db, name string) {
	t.Helper()
	if fake.coll(db, name) != nil {
		t.Fatalf("the target still has a collection %s.%s", db, name)
	}
}

// TestRenameWithinDatabase: the copy follows its source collection's rename;
// the same rename again is a no-op.
func TestRenameWithinDatabase(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	mustWrite(t, w, renameMsg(t, "db1", "b", 7, "db1.a"))
	wantCopy(t, fake, "db1", "b", 7)
	wantNoCollection(t, fake, "db1", "a")

	mustWrite(t, w, renameMsg(t, "db1", "b", 7, "db1.a"))
	wantCopy(t, fake, "db1", "b", 7)
	if n := fake.count("RenameCollection"); n != 1 {
		t.Errorf("%d renames, want 1: a replayed rename must do nothing", n)
	}
}

// TestRenameToAnotherDatabase: the new database is created, the copy moves.
func TestRenameToAnotherDatabase(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	mustWrite(t, w, renameMsg(t, "db2", "a", 7, "db1.a"))
	if !fake.hasDB("db2") {
		t.Fatal("database db2 was not created")
	}
	wantCopy(t, fake, "db2", "a", 7)
	wantNoCollection(t, fake, "db1", "a")
}

// TestRowsBeforeRenameLandInCopy: rows naming the new name arrive before the
// rename: they go to the copy (found by its ID) under its old name, and
// nothing is created under the new one; the rename then moves them.
func TestRowsBeforeRenameLandInCopy(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	rows := catalogMsgWith(t, contract.OpInsert, insertReq([]int64{1, 2}, []string{"x", "y"}, []float32{1, 2}),
		"db1", "b", 7, contract.MetaPartition, "_default")
	mustWrite(t, w, rows)
	if got := fake.coll("db1", "a").rows; !got[1] || !got[2] || len(got) != 2 {
		t.Errorf("rows of db1.a %v, want keys 1 and 2", got)
	}
	wantNoCollection(t, fake, "db1", "b")
	if n := fake.count("CreateCollection"); n != 0 {
		t.Errorf("%d collections created, want none", n)
	}

	mustWrite(t, w, renameMsg(t, "db1", "b", 7, "db1.a"))
	if got := wantCopy(t, fake, "db1", "b", 7).rows; len(got) != 2 {
		t.Errorf("rows of db1.b after the rename %v, want keys 1 and 2", got)
	}
}

// TestRenameOntoForeignCollectionFails: the new name holds a collection
// replication did not create: the output stops with an error naming it,
// and neither collection changes.
func TestRenameOntoForeignCollectionFails(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addCollection("db1", "b", map[string]string{"owner": "someone"})
	w := catalogWriter(t, fake)

	err := write(t, w, renameMsg(t, "db1", "b", 7, "db1.a"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "db1.b") {
		t.Fatalf("rename onto a foreign collection: %v, want a permanent error naming db1.b", err)
	}
	if w.failed == nil {
		t.Error("the output did not stop")
	}
	wantCopy(t, fake, "db1", "a", 7)
	if b := fake.coll("db1", "b"); b == nil || len(b.props) != 1 || b.props["owner"] != "someone" {
		t.Errorf("the foreign db1.b changed: %+v", b)
	}
	if n := fake.count("RenameCollection"); n != 0 {
		t.Errorf("%d renames called, want none", n)
	}
}

// TestAliasesFollowTheSource: an alias is created on the copy, moved to
// another copy when the source moved it (and not moved again by a replay),
// and dropped only by the drop of the copy it names now.
func TestAliasesFollowTheSource(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addCopy("db1", "c", 8)
	w := catalogWriter(t, fake)

	mustWrite(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "a", 7, "x"))
	if got := fake.aliasOf("db1", "x"); got != "a" {
		t.Fatalf("alias x names %q, want a", got)
	}

	mustWrite(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "c", 8, "x"))
	if got := fake.aliasOf("db1", "x"); got != "c" {
		t.Fatalf("alias x names %q after it moved on the source, want c", got)
	}
	mustWrite(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "c", 8, "x"))
	if n := fake.count("AlterAlias"); n != 1 {
		t.Errorf("%d AlterAlias calls, want 1 (a replay changes nothing)", n)
	}

	mustWrite(t, w, aliasMsg(t, contract.OpDropAlias, "db1", "a", 7, "x"))
	if got := fake.aliasOf("db1", "x"); got != "c" {
		t.Fatalf("alias x names %q after a late drop for a, want c still", got)
	}
	mustWrite(t, w, aliasMsg(t, contract.OpDropAlias, "db1", "c", 8, "x"))
	if got := fake.aliasOf("db1", "x"); got != "" {
		t.Fatalf("alias x still names %q after its drop", got)
	}
}

// TestAliasOfForeignCollectionUntouched: the alias names a collection
// replication did not create: create_alias stops the output and the alias
// stays where it is.
func TestAliasOfForeignCollectionUntouched(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addCollection("db1", "f", nil)
	fake.addAlias("db1", "x", "f")
	w := catalogWriter(t, fake)

	err := write(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "a", 7, "x"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "x") || !strings.Contains(err.Error(), "names f") {
		t.Fatalf("alias of a foreign collection: %v, want a permanent error naming the alias and f", err)
	}
	if got := fake.aliasOf("db1", "x"); got != "f" {
		t.Errorf("the foreign alias x now names %q", got)
	}
	if n := fake.count("CreateAlias") + fake.count("AlterAlias") + fake.count("DropAlias"); n != 0 {
		t.Errorf("%d alias calls made, want none", n)
	}
}

// TestLoadPartitionsWaitsForIndex: a load before the copy has an index
// creates the partition and waits; the copy's create_index loads it; a
// release releases it.
func TestLoadPartitionsWaitsForIndex(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)

	mustWrite(t, w, catalogMsg(t, contract.OpLoadPartitions, "db1", "a", 7, contract.MetaPartitions, "p1"))
	c := fake.coll("db1", "a")
	if !slices.Contains(c.partitions, "p1") {
		t.Errorf("partitions %v, want p1 created", c.partitions)
	}
	if len(c.loaded) != 0 {
		t.Fatalf("loaded %v without an index", c.loaded)
	}

	index := &milvuspb.CreateIndexRequest{CollectionName: "a", FieldName: "v", IndexName: "v_idx"}
	mustWrite(t, w, catalogMsgWith(t, contract.OpCreateIndex, index, "db1", "a", 7))
	c = fake.coll("db1", "a")
	if !c.indexed["v"] {
		t.Fatal("no index on v")
	}
	if !c.loaded["p1"] {
		t.Fatalf("loaded %v after the index, want p1", c.loaded)
	}

	mustWrite(t, w, catalogMsg(t, contract.OpReleasePartitions, "db1", "a", 7, contract.MetaPartitions, "p1"))
	if c = fake.coll("db1", "a"); c.loaded["p1"] {
		t.Error("p1 is still loaded after its release")
	}
}

// TestCreateCollectionOfRenamedCopy: create_collection names a new name of a
// collection whose copy exists under its old name (the rename is still to
// come): nothing is created. A collection with no copy is created, tagged.
func TestCreateCollectionOfRenamedCopy(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	w := catalogWriter(t, fake)
	create := func(name string, id int64) *service.Message {
		schema, err := proto.Marshal(fakeSchema(name))
		if err != nil {
			t.Fatal(err)
		}
		req := &msgpb.CreateCollectionRequest{CollectionName: name, CollectionID: id, Schema: schema, VirtualChannelNames: []string{"ch_0"}}
		return catalogMsgWith(t, contract.OpCreateCollection, req, "db1", name, id)
	}

	mustWrite(t, w, create("b", 7))
	if got := fake.collections("db1"); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("db1 holds %v, want only a", got)
	}
	if n := fake.count("CreateCollection"); n != 0 {
		t.Errorf("%d collections created, want none", n)
	}

	mustWrite(t, w, create("d", 9))
	wantCopy(t, fake, "db1", "d", 9)
}
