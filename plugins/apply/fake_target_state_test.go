package apply

import (
	"fmt"
	"maps"
	"slices"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// Setting up the fake target and reading its state (from the test).

// fakeSchema is the schema of the fake's collections: an Int64 primary key
// "id" and a float vector "v".
func fakeSchema(name string) *schemapb.CollectionSchema {
	return &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "1"}}},
	}}
}

// addCollection puts a collection with props into db (created if missing),
// as if someone had created it on the target.
func (f *fakeTarget) addCollection(db, name string, props map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dbs[db] == nil {
		f.dbs[db] = newFakeDB()
	}
	f.nextID++
	f.dbs[db].colls[name] = &fakeColl{id: f.nextID, schema: fakeSchema(name), props: maps.Clone(props),
		partitions: []string{"_default"}, loaded: map[string]bool{}, indexed: map[string]bool{}, rows: map[int64]bool{}}
}

// addCopy puts replication r1's copy of source collection sourceID into db.
func (f *fakeTarget) addCopy(db, name string, sourceID int64) {
	f.addCollection(db, name, map[string]string{ownerProperty: fmt.Sprint(sourceID), replicationProperty: "r1"})
}

func (f *fakeTarget) addAlias(db, alias, coll string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dbs[db].aliases[alias] = coll
}

// addDanglingAlias leaves alias naming collection dropped, which no longer
// exists: Milvus 2.3 keeps the aliases of a dropped collection (describe
// answers "collection not found", CreateAlias "alias already exist").
func (f *fakeTarget) addDanglingAlias(db, alias, dropped string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dbs[db] == nil {
		f.dbs[db] = newFakeDB()
	}
	f.dbs[db].aliases[alias] = dropped
}

// coll returns the collection named name in db (not an alias), or nil.
func (f *fakeTarget) coll(db, name string) *fakeColl {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.dbs[db]; d != nil {
		return d.colls[name]
	}
	return nil
}

// collections lists the collection names of db.
func (f *fakeTarget) collections(db string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.dbs[db]; d != nil {
		return slices.Sorted(maps.Keys(d.colls))
	}
	return nil
}

func (f *fakeTarget) hasDB(db string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dbs[db] != nil
}

// aliasOf returns the collection alias names in db ("" when none).
func (f *fakeTarget) aliasOf(db, alias string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.dbs[db]; d != nil {
		return d.aliases[alias]
	}
	return ""
}

// count returns how many times rpc was called.
func (f *fakeTarget) count(rpc string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[rpc]
}
