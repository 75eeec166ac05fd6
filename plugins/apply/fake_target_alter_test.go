package apply

import (
	"context"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// AlterCollection sets the properties given and keeps the others, as Milvus
// 2.3.5 does (any key, the output's tags included: seen on the stack).
func (f *fakeTarget) AlterCollection(_ context.Context, r *milvuspb.AlterCollectionRequest) (*commonpb.Status, error) {
	f.call("AlterCollection")
	defer f.mu.Unlock()
	_, c, st := f.named(r.GetDbName(), r.GetCollectionName(), "alter the collection")
	if st != nil {
		return st, nil
	}
	for _, kv := range r.GetProperties() {
		c.props[kv.GetKey()] = kv.GetValue()
	}
	return &commonpb.Status{}, nil
}

// addRows marks keys as held by collection db.name.
func (f *fakeTarget) addRows(db, name string, keys ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.dbs[db].colls[name].rows[k] = true
	}
}
