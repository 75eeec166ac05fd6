package apply

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// adoptWriter is replication r2 of source cluster c1, adopting r1's copies.
func adoptWriter(t *testing.T, fake *fakeTarget) *applyWriter {
	t.Helper()
	return writerFor(t, fake, maoFieldReplicationID+": r2", maoFieldSourceCluster+": c1", maoFieldAdopt+": [r1]",
		maoFieldRetryBackoff+": { initial_interval: 10ms, max_interval: 50ms }", maoFieldMaxRetry+": 2s")
}

// addTagged puts a copy of source collection id into db, tagged by
// replication repl of source cluster cluster ("": no cluster tag).
func addTagged(fake *fakeTarget, db, name string, id int64, repl, cluster string) {
	props := map[string]string{ownerProperty: itoa(id), replicationProperty: repl, "collection.ttl.seconds": "60"}
	if cluster != "" {
		props[clusterProperty] = cluster
	}
	fake.addCollection(db, name, props)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// createMsg is a create_collection of source collection id named db.name;
// snapshot marks it as the snapshot's.
func adoptCreateMsg(t *testing.T, db, name string, id int64, snapshot bool) *service.Message {
	t.Helper()
	schema, err := proto.Marshal(fakeSchema(name))
	if err != nil {
		t.Fatal(err)
	}
	req := &msgpb.CreateCollectionRequest{CollectionName: name, CollectionID: id, Schema: schema, VirtualChannelNames: []string{"ch_0"}}
	var extra []string
	if snapshot {
		extra = []string{contract.MetaSnapshot, "true"}
	}
	return catalogMsgWith(t, contract.OpCreateCollection, req, db, name, id, extra...)
}

func adoptInsertMsg(t *testing.T, db, name string, id int64, keys ...int64) *service.Message {
	t.Helper()
	vals, vec := make([]string, len(keys)), make([]float32, len(keys))
	return catalogMsgWith(t, contract.OpInsert, insertReq(keys, vals, vec), db, name, id, contract.MetaPartition, "_default")
}

// wantTags fails unless db.name is tagged as r2's copy (source cluster c1)
// of source collection id.
func wantTags(t *testing.T, fake *fakeTarget, db, name string, id int64) *fakeColl {
	t.Helper()
	c := fake.coll(db, name)
	if c == nil {
		t.Fatalf("the target has no collection %s.%s (it has %v)", db, name, fake.collections(db))
	}
	if c.props[ownerProperty] != itoa(id) || c.props[replicationProperty] != "r2" || c.props[clusterProperty] != "c1" {
		t.Fatalf("%s.%s is tagged %v, want r2's copy of %d from c1", db, name, c.props, id)
	}
	return c
}

// TestAdoptSnapshotRecreates: the snapshot's create_collection meeting a
// copy of an adopted replication drops it (its alias first: Milvus 2.3
// keeps the alias of a dropped collection) and creates it empty, tagged as
// r2's; the rows it held (deleted on the source meanwhile, maybe) are gone.
// The same create again (a resumed snapshot) drops nothing.
func TestAdoptSnapshotRecreates(t *testing.T) {
	fake := newFakeTarget()
	addTagged(fake, "db1", "a", 7, "r1", "c1")
	fake.addRows("db1", "a", 1, 2, 3)
	fake.addAlias("db1", "al", "a")
	w := adoptWriter(t, fake)

	mustWrite(t, w, adoptCreateMsg(t, "db1", "a", 7, true))
	c := wantTags(t, fake, "db1", "a", 7)
	if len(c.rows) != 0 {
		t.Errorf("the recreated copy holds rows %v, want none", slices.Sorted(maps.Keys(c.rows)))
	}
	if n := fake.count("DropAlias"); n != 1 {
		t.Errorf("%d DropAlias calls, want 1 (the adopted copy's alias, before its drop)", n)
	}
	if fake.count("DropCollection") != 1 || fake.count("CreateCollection") != 1 {
		t.Errorf("drops %d, creates %d: want 1 and 1", fake.count("DropCollection"), fake.count("CreateCollection"))
	}

	mustWrite(t, w, adoptCreateMsg(t, "db1", "a", 7, true), adoptInsertMsg(t, "db1", "a", 7, 4))
	if fake.count("DropCollection") != 1 || fake.count("CreateCollection") != 1 {
		t.Errorf("a replayed create changed the copy: drops %d, creates %d", fake.count("DropCollection"), fake.count("CreateCollection"))
	}
	if c := wantTags(t, fake, "db1", "a", 7); !c.rows[4] {
		t.Error("the snapshot's row did not land in the recreated copy")
	}
}

// TestAdoptStreamRetags: a change of the stream meeting an adopted copy
// first re-tags it as r2's (AlterCollection, once) and applies; the copy and
// its rows stay.
func TestAdoptStreamRetags(t *testing.T) {
	fake := newFakeTarget()
	addTagged(fake, "db1", "a", 7, "r1", "c1")
	fake.addRows("db1", "a", 1)
	w := adoptWriter(t, fake)

	mustWrite(t, w, adoptInsertMsg(t, "db1", "a", 7, 2), adoptInsertMsg(t, "db1", "a", 7, 3))
	c := wantTags(t, fake, "db1", "a", 7)
	if !c.rows[1] || !c.rows[2] || !c.rows[3] {
		t.Errorf("rows %v, want 1, 2, 3", slices.Sorted(maps.Keys(c.rows)))
	}
	if c.props["collection.ttl.seconds"] != "60" {
		t.Errorf("re-tagging lost the other properties: %v", c.props)
	}
	if fake.count("AlterCollection") != 1 || fake.count("DropCollection") != 0 {
		t.Errorf("AlterCollection %d, DropCollection %d: want 1 and 0", fake.count("AlterCollection"), fake.count("DropCollection"))
	}
	// A stream create of the same collection is a replay: nothing changes.
	mustWrite(t, w, adoptCreateMsg(t, "db1", "a", 7, false))
	if fake.count("DropCollection") != 0 || fake.count("CreateCollection") != 0 {
		t.Error("a stream create replaced the adopted copy")
	}
}

// TestAdoptStreamCreateRetags: the stream's create_collection meeting an
// adopted copy of the same source collection keeps it and re-tags it.
func TestAdoptStreamCreateRetags(t *testing.T) {
	fake := newFakeTarget()
	addTagged(fake, "db1", "a", 7, "r1", "c1")
	w := adoptWriter(t, fake)
	mustWrite(t, w, adoptCreateMsg(t, "db1", "a", 7, false))
	wantTags(t, fake, "db1", "a", 7)
	if fake.count("DropCollection") != 0 || fake.count("CreateCollection") != 0 {
		t.Error("a stream create replaced the adopted copy")
	}
}

// TestAdoptSnapshotMovesRenamedCopy: an adopted copy under an old name (the
// source renamed the collection while no replication ran) is dropped, and
// the snapshot creates the copy at the name the source has now.
func TestAdoptSnapshotMovesRenamedCopy(t *testing.T) {
	fake := newFakeTarget()
	addTagged(fake, "db1", "old", 7, "r1", "c1")
	w := adoptWriter(t, fake)
	mustWrite(t, w, adoptCreateMsg(t, "db1", "new", 7, true))
	wantTags(t, fake, "db1", "new", 7)
	wantNoCollection(t, fake, "db1", "old")
}

// TestAdoptRefusesOthers: copies of a replication not adopted, of another
// source cluster, or without a cluster tag are not r2's: nothing is written
// to them or dropped, whether the snapshot or the stream meets them.
func TestAdoptRefusesOthers(t *testing.T) {
	for name, tags := range map[string][2]string{
		"not adopted":     {"r3", "c1"},
		"another cluster": {"r1", "c2"},
		"no cluster tag":  {"r1", ""},
	} {
		t.Run(name, func(t *testing.T) {
			for _, snapshot := range []bool{true, false} {
				fake := newFakeTarget()
				addTagged(fake, "db1", "a", 7, tags[0], tags[1])
				w := adoptWriter(t, fake)
				msg := adoptInsertMsg(t, "db1", "a", 7, 1)
				if snapshot {
					msg = adoptCreateMsg(t, "db1", "a", 7, true)
				}
				err := write(t, w, msg)
				if err == nil || !strings.Contains(err.Error(), "another replication") {
					t.Errorf("snapshot=%v: error %v, want the copy of another replication refused", snapshot, err)
				}
				c := fake.coll("db1", "a")
				if c == nil || c.props[replicationProperty] != tags[0] || len(c.rows) != 0 {
					t.Errorf("snapshot=%v: the collection was changed: %+v", snapshot, c)
				}
				if n := fake.count("DropCollection") + fake.count("AlterCollection"); n != 0 {
					t.Errorf("snapshot=%v: %d drops/alters of a collection not ours", snapshot, n)
				}
			}
		})
	}
}

// TestAdoptStreamDrop: the stream's drop_collection drops an adopted copy,
// as it would drop one r2 created.
func TestAdoptStreamDrop(t *testing.T) {
	fake := newFakeTarget()
	addTagged(fake, "db1", "a", 7, "r1", "c1")
	w := adoptWriter(t, fake)
	mustWrite(t, w, catalogMsg(t, contract.OpDropCollection, "db1", "a", 7))
	wantNoCollection(t, fake, "db1", "a")
}

// TestAdoptCreatesTagged: what r2 creates carries its cluster tag; the
// source's properties cannot overwrite the tags.
func TestAdoptCreatesTagged(t *testing.T) {
	fake := newFakeTarget()
	w := adoptWriter(t, fake)
	msg := adoptCreateMsg(t, "db1", "a", 9, true)
	msg.MetaSetMut(contract.MetaProperties, `{"`+clusterProperty+`":"evil","`+replicationProperty+`":"r9","k":"v"}`)
	mustWrite(t, w, msg)
	if c := wantTags(t, fake, "db1", "a", 9); c.props["k"] != "v" {
		t.Errorf("the source's property is missing: %v", c.props)
	}
}

// TestAdoptConfig: adopt_replications refuses an empty id and leaves out
// the replication's own.
func TestAdoptConfig(t *testing.T) {
	parse := func(yaml string) (replication, error) {
		t.Helper()
		conf, err := milvusApplyOutputSpec().ParseYAML(yaml, nil)
		if err != nil {
			t.Fatal(err)
		}
		return replicationFromParsed(conf)
	}
	r, err := parse("replication_id: r2\nsource_cluster: c1\nadopt_replications: [r1, r2, ' r0 ']")
	if err != nil {
		t.Fatal(err)
	}
	if r.id != "r2" || r.cluster != "c1" || !maps.Equal(r.adopt, map[string]bool{"r1": true, "r0": true}) {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parse("adopt_replications: ['']"); err == nil {
		t.Error("an empty replication id to adopt was accepted")
	}
	if r, err := parse("{}"); err != nil || r.id != "" || len(r.adopt) != 0 {
		t.Errorf("defaults: %+v, %v", r, err)
	}
}
