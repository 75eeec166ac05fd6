package apply

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// rowTarget returns the target collection for a row operation; skip is true
// when the message belongs to an older incarnation of the name (a replay, or
// a late message of a dropped collection).
func (a *applier) rowTarget(ctx context.Context, st *applyStep) (tc *targetColl, skip bool, err error) {
	if tc, err = a.locate(ctx, st); err != nil || tc != nil {
		return tc, false, err
	}
	if tc, err = a.meta.collection(ctx, st.target); err != nil {
		return nil, false, err
	}
	if !tc.exists {
		if st.sourceGone {
			// The source dropped it too (a replay of its history): the end
			// state is "no collection", so its rows need not be copied.
			return nil, true, nil
		}
		return nil, false, permanentf("%s: the target has no collection %s.%s (its CreateCollection came before this pipeline's start position: copy the collection first or start from earlier)",
			st, st.target.DB, st.target.Name)
	}
	if !tc.ours(a.conf.replicationID) {
		return nil, false, notOurs(st, tc)
	}
	if !tc.copies(a.conf.replicationID, st.collID) {
		if st.collID < tc.owner {
			return nil, true, nil // an older incarnation: the target already copies a newer one
		}
		return nil, false, permanentf("%s: target collection %s.%s copies source collection %d, but this message is of collection %d, created after it (its CreateCollection was not seen)",
			st, st.target.DB, st.target.Name, tc.owner, st.collID)
	}
	return tc, false, nil
}

func (a *applier) upsert(ctx context.Context, st *applyStep) error {
	tc, skip, err := a.rowTarget(ctx, st)
	if err != nil || skip {
		return err
	}
	// The source's partition, _default included: an upsert deletes its keys
	// in the partition it names, as the source's did; without a name the
	// target would pick the partition (its own default one).
	part := st.partition
	if tc.partitionKey {
		part = "" // Milvus routes rows itself
	}
	if err := a.ensurePartition(ctx, st, tc, part); err != nil {
		return err
	}
	fields, n, err := mergeInserts(st.inserts, tc.pk.GetName())
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	resp, err := a.api.Upsert(ctx, &milvuspb.UpsertRequest{
		DbName: st.target.DB, CollectionName: st.target.Name, PartitionName: part, FieldsData: fields, NumRows: uint32(n),
	})
	if err := statusError(fmt.Sprintf("upsert %d rows into %s.%s", n, st.target.DB, st.target.Name), resp.GetStatus(), err); err != nil {
		a.meta.forget(st.target) // the schema may have changed under us
		return err
	}
	return nil
}

func (a *applier) delete(ctx context.Context, st *applyStep) error {
	tc, skip, err := a.rowTarget(ctx, st)
	if err != nil || skip {
		return err
	}
	part := st.partition
	if tc.partitionKey {
		part = "" // Milvus routes keys to partitions itself
	} else if part != "" && !tc.partitions[part] {
		// A partition the target never got rows for holds none of these
		// keys; deleting them elsewhere would remove rows the source keeps
		// in other partitions (one key may live in several).
		return nil
	}
	var ints []int64
	var strs []string
	for _, d := range st.deletes {
		i, s := wal.DeletePKs(d)
		ints, strs = append(ints, i...), append(strs, s...)
	}
	pk := tc.pk.GetName()
	for _, expr := range wal.KeyExprs(pk, ints, strs) {
		resp, err := a.api.Delete(ctx, &milvuspb.DeleteRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionName: part, Expr: expr})
		if err := statusError(fmt.Sprintf("delete from %s.%s", st.target.DB, st.target.Name), resp.GetStatus(), err); err != nil {
			return err
		}
	}
	return nil
}
