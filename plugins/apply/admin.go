package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// The replicate channel carries the client's own requests (flush, index,
// load/release, databases); they are re-sent to the target with mapped names.

func (a *applier) createIndex(ctx context.Context, st *applyStep) error {
	var req milvuspb.CreateIndexRequest
	if err := proto.Unmarshal(st.payload, &req); err != nil {
		return permanentf("%s: decode: %v", st, err)
	}
	if ok, err := a.ownTarget(ctx, st); err != nil || !ok {
		return err
	}
	resp, err := a.api.CreateIndex(ctx, &milvuspb.CreateIndexRequest{
		DbName: st.target.DB, CollectionName: st.target.Name, FieldName: req.GetFieldName(),
		ExtraParams: req.GetExtraParams(), IndexName: req.GetIndexName(),
	})
	if err == nil && contract.AlreadyExists(resp) {
		resp = nil
	}
	if err := statusError(fmt.Sprintf("create index %q on %s.%s", req.GetIndexName(), st.target.DB, st.target.Name), resp, err); err != nil {
		return err
	}
	return a.loadPending(ctx, st)
}

func (a *applier) dropIndex(ctx context.Context, st *applyStep) error {
	var req milvuspb.DropIndexRequest
	if err := proto.Unmarshal(st.payload, &req); err != nil {
		return permanentf("%s: decode: %v", st, err)
	}
	if ok, err := a.ownTarget(ctx, st); err != nil || !ok {
		return err
	}
	resp, err := a.api.DropIndex(ctx, &milvuspb.DropIndexRequest{
		DbName: st.target.DB, CollectionName: st.target.Name, FieldName: req.GetFieldName(), IndexName: req.GetIndexName(),
	})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop index %q on %s.%s", req.GetIndexName(), st.target.DB, st.target.Name), resp, err)
}

func (a *applier) loadCollection(ctx context.Context, st *applyStep) error {
	var req milvuspb.LoadCollectionRequest
	if err := proto.Unmarshal(st.payload, &req); err != nil {
		return permanentf("%s: decode: %v", st, err)
	}
	if ok, err := a.ownTarget(ctx, st); err != nil || !ok {
		return err
	}
	resp, err := a.api.LoadCollection(ctx, &milvuspb.LoadCollectionRequest{
		DbName: st.target.DB, CollectionName: st.target.Name, ReplicaNumber: req.GetReplicaNumber(),
	})
	return statusError(fmt.Sprintf("load %s.%s", st.target.DB, st.target.Name), resp, err)
}

func (a *applier) releaseCollection(ctx context.Context, st *applyStep) error {
	if ok, err := a.ownTarget(ctx, st); err != nil || !ok {
		return err
	}
	resp, err := a.api.ReleaseCollection(ctx, &milvuspb.ReleaseCollectionRequest{DbName: st.target.DB, CollectionName: st.target.Name})
	return statusError(fmt.Sprintf("release %s.%s", st.target.DB, st.target.Name), resp, err)
}

func (a *applier) flush(ctx context.Context, st *applyStep) error {
	byDB := map[string][]string{}
	for _, name := range st.meta.Collections {
		ref := a.conf.mapName(st.src.DB, name)
		tc, err := a.meta.collection(ctx, ref)
		if err != nil {
			return err
		}
		if tc.ours(a.conf.replicationID) { // a flush of what replication did not create is not ours to make
			byDB[ref.DB] = append(byDB[ref.DB], ref.Name)
		}
	}
	for db, names := range byDB {
		resp, err := a.api.Flush(ctx, &milvuspb.FlushRequest{DbName: db, CollectionNames: names})
		if err := statusError(fmt.Sprintf("flush %s.%s", db, strings.Join(names, ",")), resp.GetStatus(), err); err != nil {
			return err
		}
	}
	return nil
}

// ownTarget reports whether the step's target collection exists and is this
// replication's (false: it does not exist); one it did not create is a
// permanent error: nothing is done to it.
func (a *applier) ownTarget(ctx context.Context, st *applyStep) (bool, error) {
	if st.collID != 0 {
		tc, err := a.locate(ctx, st)
		if err == nil && tc == nil {
			// Not a failure: the copy was dropped since, the name holds a
			// newer incarnation, or the collection predates the start.
			a.log.Warnf("%s: the target holds no copy of source collection %d (%s.%s): nothing to apply", st, st.collID, st.target.DB, st.target.Name)
		}
		return tc != nil, err
	}
	tc, err := a.meta.collection(ctx, st.target)
	if err != nil {
		return false, err
	}
	if tc.exists && !tc.ours(a.conf.replicationID) {
		return false, notOurs(st, tc)
	}
	return tc.exists, nil
}

func (a *applier) ensureDatabase(ctx context.Context, db string) error {
	if db == "" || db == "default" || a.dbs[db] {
		return nil
	}
	resp, err := a.api.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := statusError("list target databases", resp.GetStatus(), err); err != nil {
		return err
	}
	for _, d := range resp.GetDbNames() {
		if d == db {
			a.dbs[db] = true
			return nil
		}
	}
	st, err := a.api.CreateDatabase(ctx, &milvuspb.CreateDatabaseRequest{DbName: db})
	if err == nil && contract.AlreadyExists(st) {
		st = nil
	}
	if err := statusError("create database "+db, st, err); err != nil {
		return err
	}
	a.dbs[db] = true
	return nil
}

func (a *applier) createDatabase(ctx context.Context, st *applyStep) error {
	return a.ensureDatabase(ctx, a.conf.mapDB(st.src.DB))
}

// dropDatabase drops a target database. Milvus refuses to drop one that has
// collections; the source's own drops of them may still be on their way
// (written late), so this replication's copies there go first. A database
// that still holds collections it did not create is left as it is.
func (a *applier) dropDatabase(ctx context.Context, st *applyStep) error {
	db := a.conf.mapDB(st.src.DB)
	if db == "default" {
		return nil
	}
	delete(a.dbs, db)
	cols, err := a.api.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err == nil && contract.NotFound(cols.GetStatus()) {
		return nil
	}
	if err := statusError("list collections of "+db, cols.GetStatus(), err); err != nil {
		return err
	}
	var others []string
	for _, name := range cols.GetCollectionNames() {
		ref := contract.CollectionRef{DB: db, Name: name}
		tc, err := a.meta.collection(ctx, ref)
		if err != nil {
			return err
		}
		if !tc.ours(a.conf.replicationID) {
			others = append(others, name)
			continue
		}
		if err := a.dropTargetCollection(ctx, ref); err != nil {
			return err
		}
	}
	if len(others) > 0 {
		a.log.Warnf("%s: not dropping target database %s: it holds collections replication did not create (%s); its copies there are dropped",
			st, db, strings.Join(others, ", "))
		return nil
	}
	resp, err := a.api.DropDatabase(ctx, &milvuspb.DropDatabaseRequest{DbName: db})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	if err == nil && resp.GetErrorCode() != commonpb.ErrorCode_Success {
		a.log.Warnf("Target database %s is not dropped: it holds collections this pipeline did not create (%s)", db, resp.GetReason())
		return nil
	}
	return statusError("drop database "+db, resp, err)
}
