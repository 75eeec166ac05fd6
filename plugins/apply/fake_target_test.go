package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// fakeColl is one collection of the fake target.
type fakeColl struct {
	id         int64
	schema     *schemapb.CollectionSchema // Name is the collection's name
	props      map[string]string
	partitions []string
	loaded     map[string]bool // loaded partitions
	indexed    map[string]bool // fields with an index
	rows       map[int64]bool  // primary keys upserted
}

// fakeDB is one database of the fake target.
type fakeDB struct {
	colls   map[string]*fakeColl
	aliases map[string]string // alias → collection name
}

// fakeTarget is an in-memory target Milvus: databases of collections with
// properties, partitions, aliases, indexes and loaded partitions. It answers
// the RPCs milvus_apply calls as Milvus 2.3+ does (aliases resolved by
// DescribeCollection and Upsert, refusals with Milvus's texts and codes);
// any other RPC is Unimplemented. Every call is counted by name.
type fakeTarget struct {
	milvuspb.UnimplementedMilvusServiceServer
	mu     sync.Mutex
	dbs    map[string]*fakeDB
	nextID int64
	calls  map[string]int
	// flushed lists the collections flushed, in order ("db.name").
	flushed []string
}

func newFakeTarget() *fakeTarget {
	return &fakeTarget{dbs: map[string]*fakeDB{"default": newFakeDB()}, nextID: 1000, calls: map[string]int{}}
}

func newFakeDB() *fakeDB {
	return &fakeDB{colls: map[string]*fakeColl{}, aliases: map[string]string{}}
}

func dbOf(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

func collNotFound(name string) *commonpb.Status {
	return &commonpb.Status{ErrorCode: commonpb.ErrorCode_CollectionNotExists, Code: 100, Reason: fmt.Sprintf("collection not found[collection=%s]", name)}
}

func dbNotFound(db string) *commonpb.Status {
	return &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 800, Reason: fmt.Sprintf("database not found[database=%s]", db)}
}

// refused is how Milvus 2.3 answers a conflict it does not classify (code
// 65535: the output retries it as transient).
func refused(format string, args ...any) *commonpb.Status {
	return &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 65535, Reason: fmt.Sprintf(format, args...)}
}

// call counts rpc and takes the lock; the caller unlocks.
func (f *fakeTarget) call(rpc string) {
	f.mu.Lock()
	f.calls[rpc]++
}

// lookup finds a collection by name or alias; the status says why not.
func (f *fakeTarget) lookup(db, name string) (*fakeDB, *fakeColl, *commonpb.Status) {
	d := f.dbs[dbOf(db)]
	if d == nil {
		return nil, nil, dbNotFound(dbOf(db))
	}
	if real, ok := d.aliases[name]; ok {
		name = real
	}
	c := d.colls[name]
	if c == nil {
		return d, nil, collNotFound(name)
	}
	return d, c, nil
}

// named finds a collection by its own name: an alias is refused.
func (f *fakeTarget) named(db, name, what string) (*fakeDB, *fakeColl, *commonpb.Status) {
	if d := f.dbs[dbOf(db)]; d != nil && d.aliases[name] != "" {
		return nil, nil, refused("cannot %s via alias = %s", what, name)
	}
	return f.lookup(db, name)
}

func (d *fakeDB) aliasesOf(coll string) []string {
	var out []string
	for a, c := range d.aliases {
		if c == coll {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func (*fakeTarget) Connect(context.Context, *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{Status: &commonpb.Status{}, ServerInfo: &commonpb.ServerInfo{}}, nil
}

func (f *fakeTarget) ListDatabases(context.Context, *milvuspb.ListDatabasesRequest) (*milvuspb.ListDatabasesResponse, error) {
	f.call("ListDatabases")
	defer f.mu.Unlock()
	return &milvuspb.ListDatabasesResponse{Status: &commonpb.Status{}, DbNames: slices.Sorted(maps.Keys(f.dbs))}, nil
}

func (f *fakeTarget) CreateDatabase(_ context.Context, r *milvuspb.CreateDatabaseRequest) (*commonpb.Status, error) {
	f.call("CreateDatabase")
	defer f.mu.Unlock()
	if f.dbs[r.GetDbName()] != nil {
		return refused("database already exist: %s", r.GetDbName()), nil
	}
	f.dbs[r.GetDbName()] = newFakeDB()
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) ShowCollections(_ context.Context, r *milvuspb.ShowCollectionsRequest) (*milvuspb.ShowCollectionsResponse, error) {
	f.call("ShowCollections")
	defer f.mu.Unlock()
	d := f.dbs[dbOf(r.GetDbName())]
	if d == nil {
		return &milvuspb.ShowCollectionsResponse{Status: dbNotFound(dbOf(r.GetDbName()))}, nil
	}
	resp := &milvuspb.ShowCollectionsResponse{Status: &commonpb.Status{}}
	for _, name := range slices.Sorted(maps.Keys(d.colls)) {
		resp.CollectionNames = append(resp.CollectionNames, name)
		resp.CollectionIds = append(resp.CollectionIds, d.colls[name].id)
	}
	return resp, nil
}

// DescribeCollection answers an alias with its collection: the schema and
// collection name are the collection's own.
func (f *fakeTarget) DescribeCollection(_ context.Context, r *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	f.call("DescribeCollection")
	defer f.mu.Unlock()
	d, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return &milvuspb.DescribeCollectionResponse{Status: st}, nil
	}
	resp := &milvuspb.DescribeCollectionResponse{Status: &commonpb.Status{}, Schema: proto.Clone(c.schema).(*schemapb.CollectionSchema),
		CollectionID: c.id, CollectionName: c.schema.GetName(), DbName: dbOf(r.GetDbName()), ShardsNum: 1,
		Aliases: d.aliasesOf(c.schema.GetName())}
	for _, k := range slices.Sorted(maps.Keys(c.props)) {
		resp.Properties = append(resp.Properties, &commonpb.KeyValuePair{Key: k, Value: c.props[k]})
	}
	return resp, nil
}

func (f *fakeTarget) ShowPartitions(_ context.Context, r *milvuspb.ShowPartitionsRequest) (*milvuspb.ShowPartitionsResponse, error) {
	f.call("ShowPartitions")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return &milvuspb.ShowPartitionsResponse{Status: st}, nil
	}
	return &milvuspb.ShowPartitionsResponse{Status: &commonpb.Status{}, PartitionNames: slices.Clone(c.partitions)}, nil
}

// CreatePartition of an existing partition succeeds, as in Milvus 2.3.
func (f *fakeTarget) CreatePartition(_ context.Context, r *milvuspb.CreatePartitionRequest) (*commonpb.Status, error) {
	f.call("CreatePartition")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return st, nil
	}
	if !slices.Contains(c.partitions, r.GetPartitionName()) {
		c.partitions = append(c.partitions, r.GetPartitionName())
	}
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) CreateCollection(_ context.Context, r *milvuspb.CreateCollectionRequest) (*commonpb.Status, error) {
	f.call("CreateCollection")
	defer f.mu.Unlock()
	db, name := dbOf(r.GetDbName()), r.GetCollectionName()
	d := f.dbs[db]
	switch {
	case d == nil:
		return dbNotFound(db), nil
	case d.aliases[name] != "":
		return refused("collection name [%s] conflicts with an existing alias, please choose a unique name", name), nil
	case d.colls[name] != nil:
		return refused("collection already exists: %s", name), nil
	}
	var schema schemapb.CollectionSchema
	if err := proto.Unmarshal(r.GetSchema(), &schema); err != nil {
		return &commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Code: 1100, Reason: err.Error()}, nil
	}
	schema.Name = name
	props := map[string]string{}
	for _, kv := range r.GetProperties() {
		props[kv.GetKey()] = kv.GetValue()
	}
	f.nextID++
	d.colls[name] = &fakeColl{id: f.nextID, schema: &schema, props: props, partitions: []string{"_default"},
		loaded: map[string]bool{}, indexed: map[string]bool{}, rows: map[int64]bool{}}
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) DropCollection(_ context.Context, r *milvuspb.DropCollectionRequest) (*commonpb.Status, error) {
	f.call("DropCollection")
	defer f.mu.Unlock()
	d, c, st := f.named(r.GetDbName(), r.GetCollectionName(), "drop the collection")
	if st != nil {
		return st, nil
	}
	for _, a := range d.aliasesOf(c.schema.GetName()) {
		delete(d.aliases, a)
	}
	delete(d.colls, c.schema.GetName())
	return &commonpb.Status{}, nil
}

// Flush answers for collections that exist; the names flushed are kept.
func (f *fakeTarget) Flush(_ context.Context, r *milvuspb.FlushRequest) (*milvuspb.FlushResponse, error) {
	f.call("Flush")
	defer f.mu.Unlock()
	for _, name := range r.GetCollectionNames() {
		if _, _, st := f.lookup(r.GetDbName(), name); st != nil {
			return &milvuspb.FlushResponse{Status: st}, nil
		}
		f.flushed = append(f.flushed, dbOf(r.GetDbName())+"."+name)
	}
	return &milvuspb.FlushResponse{Status: &commonpb.Status{}}, nil
}

// RenameCollection refuses what Milvus refuses: an alias as the old name,
// a new name taken by a collection or an alias, a move to another database
// of a collection that has aliases.
func (f *fakeTarget) RenameCollection(_ context.Context, r *milvuspb.RenameCollectionRequest) (*commonpb.Status, error) {
	f.call("RenameCollection")
	defer f.mu.Unlock()
	newDB := r.GetNewDBName()
	if newDB == "" {
		newDB = dbOf(r.GetDbName())
	}
	to := f.dbs[newDB]
	if to == nil {
		return dbNotFound(newDB), nil
	}
	from, c, st := f.named(r.GetDbName(), r.GetOldName(), "rename the collection")
	switch {
	case st != nil:
		return st, nil
	case to.aliases[r.GetNewName()] != "":
		return refused("cannot rename collection to an existing alias: %s", r.GetNewName()), nil
	case to.colls[r.GetNewName()] != nil:
		return refused("duplicated new collection name %s:%s with other collection name or alias", newDB, r.GetNewName()), nil
	case from != to && len(from.aliasesOf(r.GetOldName())) > 0:
		return refused("fail to rename db name, must drop all aliases of this collection before rename"), nil
	}
	delete(from.colls, r.GetOldName())
	for _, a := range from.aliasesOf(r.GetOldName()) {
		from.aliases[a] = r.GetNewName()
	}
	c.schema.Name = r.GetNewName()
	to.colls[r.GetNewName()] = c
	return &commonpb.Status{}, nil
}

// CreateAlias succeeds when the alias names the collection already, fails
// when it names another one.
func (f *fakeTarget) CreateAlias(_ context.Context, r *milvuspb.CreateAliasRequest) (*commonpb.Status, error) {
	f.call("CreateAlias")
	defer f.mu.Unlock()
	d, c, st := f.named(r.GetDbName(), r.GetCollectionName(), "create alias")
	switch {
	case st != nil:
		return st, nil
	case d.colls[r.GetAlias()] != nil:
		return refused("cannot create alias, collection already exists with same name: %s", r.GetAlias()), nil
	case d.aliases[r.GetAlias()] == c.schema.GetName():
		return &commonpb.Status{}, nil
	case d.aliases[r.GetAlias()] != "" && d.colls[d.aliases[r.GetAlias()]] == nil:
		// An alias left by a dropped collection (addDanglingAlias): Milvus 2.3.5's answer.
		return &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 1602, Reason: fmt.Sprintf(
			"%s is alias to another collection: %s: alias already exist[database=%s][alias=%s]", r.GetAlias(), d.aliases[r.GetAlias()], dbOf(r.GetDbName()), r.GetAlias())}, nil
	case d.aliases[r.GetAlias()] != "":
		return refused("alias exists and already aliased to another collection, alias: %s, collection: %s, other collection: %s",
			r.GetAlias(), r.GetCollectionName(), d.aliases[r.GetAlias()]), nil
	}
	d.aliases[r.GetAlias()] = c.schema.GetName()
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) AlterAlias(_ context.Context, r *milvuspb.AlterAliasRequest) (*commonpb.Status, error) {
	f.call("AlterAlias")
	defer f.mu.Unlock()
	d, c, st := f.named(r.GetDbName(), r.GetCollectionName(), "alter alias")
	switch {
	case st != nil:
		return st, nil
	case d.aliases[r.GetAlias()] == "":
		return refused("failed to alter alias, alias does not exist: %s", r.GetAlias()), nil
	}
	d.aliases[r.GetAlias()] = c.schema.GetName()
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) DropAlias(_ context.Context, r *milvuspb.DropAliasRequest) (*commonpb.Status, error) {
	f.call("DropAlias")
	defer f.mu.Unlock()
	d := f.dbs[dbOf(r.GetDbName())]
	if d == nil {
		return dbNotFound(dbOf(r.GetDbName())), nil
	}
	if d.aliases[r.GetAlias()] == "" {
		return &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 1600, Reason: fmt.Sprintf("alias not found[database=%s][alias=%s]", dbOf(r.GetDbName()), r.GetAlias())}, nil
	}
	delete(d.aliases, r.GetAlias())
	return &commonpb.Status{}, nil
}

// LoadPartitions needs an index on the collection (Milvus: code 700).
func (f *fakeTarget) LoadPartitions(_ context.Context, r *milvuspb.LoadPartitionsRequest) (*commonpb.Status, error) {
	f.call("LoadPartitions")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return st, nil
	}
	for _, p := range r.GetPartitionNames() {
		if !slices.Contains(c.partitions, p) {
			return &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 200, Reason: fmt.Sprintf("partition not found[partition=%s]", p)}, nil
		}
	}
	if len(c.indexed) == 0 {
		return &commonpb.Status{ErrorCode: commonpb.ErrorCode_IndexNotExist, Code: codeIndexNotFound, Reason: "index not found"}, nil
	}
	for _, p := range r.GetPartitionNames() {
		c.loaded[p] = true
	}
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) ReleasePartitions(_ context.Context, r *milvuspb.ReleasePartitionsRequest) (*commonpb.Status, error) {
	f.call("ReleasePartitions")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return st, nil
	}
	for _, p := range r.GetPartitionNames() {
		delete(c.loaded, p)
	}
	return &commonpb.Status{}, nil
}

func (f *fakeTarget) CreateIndex(_ context.Context, r *milvuspb.CreateIndexRequest) (*commonpb.Status, error) {
	f.call("CreateIndex")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return st, nil
	}
	for _, fld := range c.schema.GetFields() {
		if fld.GetName() == r.GetFieldName() {
			c.indexed[fld.GetName()] = true
			return &commonpb.Status{}, nil
		}
	}
	return &commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Code: 1100, Reason: fmt.Sprintf("field %s does not exist", r.GetFieldName())}, nil
}

// Upsert records the primary keys (Int64) of the rows.
func (f *fakeTarget) Upsert(_ context.Context, r *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	f.call("Upsert")
	defer f.mu.Unlock()
	_, c, st := f.lookup(r.GetDbName(), r.GetCollectionName())
	if st != nil {
		return &milvuspb.MutationResult{Status: st}, nil
	}
	if p := r.GetPartitionName(); p != "" && !slices.Contains(c.partitions, p) {
		return &milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 200, Reason: fmt.Sprintf("partition not found[partition=%s]", p)}}, nil
	}
	ids, _, ok := wal.PKValues(r.GetFieldsData(), "id")
	if !ok {
		return &milvuspb.MutationResult{Status: &commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Code: 1100, Reason: "no primary key column"}}, nil
	}
	for _, id := range ids {
		c.rows[id] = true
	}
	return &milvuspb.MutationResult{Status: &commonpb.Status{}, UpsertCnt: int64(len(ids))}, nil
}
