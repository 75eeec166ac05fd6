package apply

import (
	"strings"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Aliases a dropped collection left on the target (Milvus 2.3 keeps them).

// TestDanglingAliasMoved: the target holds alias x of a collection dropped
// by hand; the snapshot's create_alias x moves it to the copy instead of
// failing on "alias already exist", and a replay changes nothing.
func TestDanglingAliasMoved(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addDanglingAlias("db1", "x", "gone")
	w := catalogWriter(t, fake)

	mustWrite(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "a", 7, "x"))
	if got := fake.aliasOf("db1", "x"); got != "a" {
		t.Fatalf("alias x names %q, want a (moved from the dropped collection)", got)
	}
	mustWrite(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "a", 7, "x"))
	if n := fake.count("AlterAlias"); n != 1 {
		t.Errorf("%d AlterAlias calls, want 1 (a replay changes nothing)", n)
	}
	if w.failed != nil {
		t.Errorf("the output stopped: %v", w.failed)
	}
}

// TestAliasOfOtherReplicationUntouched: an alias naming a live collection
// another replication made is not moved: Failed, naming the alias and the
// collection; nothing is called to change it.
func TestAliasOfOtherReplicationUntouched(t *testing.T) {
	fake := newFakeTarget()
	fake.addCopy("db1", "a", 7)
	fake.addCollection("db1", "o", map[string]string{ownerProperty: "7", replicationProperty: "r2"})
	fake.addAlias("db1", "x", "o")
	w := catalogWriter(t, fake)

	err := write(t, w, aliasMsg(t, contract.OpCreateAlias, "db1", "a", 7, "x"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "db1.x") || !strings.Contains(err.Error(), "names o") {
		t.Fatalf("alias of another replication's copy: %v, want a permanent error naming db1.x and o", err)
	}
	if got := fake.aliasOf("db1", "x"); got != "o" {
		t.Errorf("the alias x now names %q, want o", got)
	}
	if n := fake.count("CreateAlias") + fake.count("AlterAlias") + fake.count("DropAlias"); n != 0 {
		t.Errorf("%d alias calls made, want none", n)
	}
}

// TestCollectionTakesDanglingAliasName: a create_collection whose name is an
// alias of a dropped collection drops that alias first (Milvus 2.3 would
// create the collection but hide it behind the alias).
func TestCollectionTakesDanglingAliasName(t *testing.T) {
	fake := newFakeTarget()
	fake.addDanglingAlias("db1", "b", "gone")
	w := catalogWriter(t, fake)

	mustWrite(t, w, createMsg(t, "db1", "b", 9))
	wantCopy(t, fake, "db1", "b", 9)
	if got := fake.aliasOf("db1", "b"); got != "" {
		t.Errorf("alias b still names %q", got)
	}
}

func createMsg(t *testing.T, db, name string, id int64) *service.Message {
	t.Helper()
	schema, err := proto.Marshal(fakeSchema(name))
	if err != nil {
		t.Fatal(err)
	}
	req := &msgpb.CreateCollectionRequest{CollectionName: name, CollectionID: id, Schema: schema, VirtualChannelNames: []string{"ch_0"}}
	return catalogMsgWith(t, contract.OpCreateCollection, req, db, name, id)
}
