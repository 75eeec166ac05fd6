package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// The ops below come from the source's catalog (Milvus 2.3 logs none of
// them): the input sends each change it sees, and each is applied to the
// copy found by its source collection ID.

// renameCollection moves this replication's copy to the collection's new
// names (another database included). The new name must be free on the
// target, or hold this copy already.
func (a *applier) renameCollection(ctx context.Context, st *applyStep) error {
	if st.collID == 0 {
		return permanentf("%s: the message carries no collection ID", st)
	}
	want := st.target
	tc, err := a.locate(ctx, st)
	if err != nil || tc == nil {
		if err == nil {
			a.log.Warnf("%s: the target holds no copy of source collection %d to rename", st, st.collID)
		}
		return err
	}
	if st.target == want {
		return nil // renamed already
	}
	from := st.target
	dest, err := a.meta.collection(ctx, want)
	if err != nil {
		return err
	}
	if err := a.freeName(ctx, st, want, dest); err != nil {
		return err
	}
	if dest.exists {
		st.target = want
		if !dest.ours(a.conf.replicationID) {
			return notOurs(st, dest)
		}
		return permanentf("%s: cannot rename %s.%s to %s.%s: the target name holds this replication's copy of source collection %d, "+
			"whose drop or rename has not arrived yet", st, from.DB, from.Name, want.DB, want.Name, dest.owner)
	}
	if err := a.ensureDatabase(ctx, want.DB); err != nil {
		return err
	}
	resp, err := a.api.RenameCollection(ctx, &milvuspb.RenameCollectionRequest{
		DbName: from.DB, OldName: from.Name, NewDBName: want.DB, NewName: want.Name,
	})
	a.meta.forget(from)
	a.meta.forget(want)
	st.target = want
	if err := statusError(fmt.Sprintf("rename %s.%s to %s.%s", from.DB, from.Name, want.DB, want.Name), resp, err); err != nil {
		return err
	}
	if at, ok := a.young[from]; ok {
		delete(a.young, from)
		a.young[want] = at
	}
	return nil
}

// aliasHolder describes what alias names in database db on the target:
// the collection's names and what the output knows of it; nil when the
// alias does not exist.
func (a *applier) aliasHolder(ctx context.Context, st *applyStep, db, alias string) (*targetColl, contract.CollectionRef, error) {
	resp, err := a.api.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: alias})
	if err == nil && contract.NotFound(resp.GetStatus()) {
		return nil, contract.CollectionRef{}, nil
	}
	if err := statusError(fmt.Sprintf("describe alias %s.%s", db, alias), resp.GetStatus(), err); err != nil {
		return nil, contract.CollectionRef{}, err
	}
	ref := contract.CollectionRef{DB: db, Name: resp.GetSchema().GetName()}
	if ref.Name == alias {
		// A collection has the name: no alias of it exists.
		if st.op == contract.OpDropAlias {
			return nil, ref, nil
		}
		return nil, ref, permanentf("%s: the target has a collection named %s.%s, which the alias cannot take", st, db, alias)
	}
	tc, err := a.meta.collection(ctx, ref)
	return tc, ref, err
}

// createAlias makes alias name this replication's copy; an alias of the
// same name on another of its copies moves (the source moved it). An alias
// on a collection replication did not create is not touched: Failed.
func (a *applier) createAlias(ctx context.Context, st *applyStep) error {
	tc, err := a.locate(ctx, st)
	if err != nil || tc == nil {
		if err == nil {
			a.log.Warnf("%s: the target holds no copy of source collection %d for alias %q", st, st.collID, st.meta.Alias)
		}
		return err
	}
	alias := st.meta.Alias
	holder, ref, err := a.aliasHolder(ctx, st, st.target.DB, alias)
	if err != nil {
		return err
	}
	var resp *commonpb.Status
	what := fmt.Sprintf("alias %s.%s for %s", st.target.DB, alias, st.target.Name)
	switch {
	case holder == nil:
		resp, err = a.api.CreateAlias(ctx, &milvuspb.CreateAliasRequest{DbName: st.target.DB, CollectionName: st.target.Name, Alias: alias})
		if cerr := statusError(what, resp, err); cerr != nil && err == nil {
			// Refused although no collection answers to the name: the
			// alias may outlive its dropped collection.
			a.meta.forget(contract.CollectionRef{DB: st.target.DB, Name: alias})
			return a.moveDangling(ctx, st, alias, cerr)
		}
	case holder.copies(a.conf.replicationID, st.collID):
		return nil
	case !holder.ours(a.conf.replicationID):
		return permanentf("%s: alias %s.%s on the target names %s, which replication did not create: it is not moved. "+
			"Drop the alias on the target (or map this database elsewhere), then resume", st, st.target.DB, alias, ref.Name)
	default:
		resp, err = a.api.AlterAlias(ctx, &milvuspb.AlterAliasRequest{DbName: st.target.DB, CollectionName: st.target.Name, Alias: alias})
	}
	a.meta.forget(contract.CollectionRef{DB: st.target.DB, Name: alias})
	return statusError(what, resp, err)
}

// moveDangling moves alias to this replication's copy when it names a
// collection that no longer exists: Milvus 2.3 keeps the aliases of a
// dropped collection (DescribeCollection answers "collection not found",
// CreateAlias "alias already exist"; AlterAlias and DropAlias work). The
// dropped collection's tags are gone with it (a time-travel describe finds
// nothing), so who made it cannot be told; an alias that names no
// collection holds nobody's data, and moving it takes nothing over. When
// the alias does not dangle, createErr (the refused create) is returned.
func (a *applier) moveDangling(ctx context.Context, st *applyStep, alias string, createErr error) error {
	db := st.target.DB
	desc, err := a.api.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: alias})
	if err != nil || !contract.NotFound(desc.GetStatus()) {
		return createErr // it names a collection now: the next attempt sees which
	}
	resp, err := a.api.AlterAlias(ctx, &milvuspb.AlterAliasRequest{DbName: db, CollectionName: st.target.Name, Alias: alias})
	if err == nil && contract.NotFound(resp) {
		return createErr // no such alias: the create failed for another reason
	}
	if err := statusError(fmt.Sprintf("move alias %s.%s, which names a dropped collection, to %s", db, alias, st.target.Name), resp, err); err != nil {
		return fmt.Errorf("%w (after the create was refused: %v)", err, createErr)
	}
	a.log.Warnf("%s: alias %s.%s on the target named a collection that no longer exists (Milvus 2.3 keeps the aliases of a dropped collection): moved to %s",
		st, db, alias, st.target.Name)
	return nil
}

// freeName drops alias ref when a collection is about to take its name
// (the source has a collection of that name now, so it no longer has the
// alias); an alias of a collection replication did not create is not
// touched: a permanent error. A free-looking name may still be an alias of
// a dropped collection: dropDangling.
func (a *applier) freeName(ctx context.Context, st *applyStep, ref contract.CollectionRef, tc *targetColl) error {
	if !tc.exists && tc.aliasOf == "" {
		return a.dropDangling(ctx, ref)
	}
	if tc.aliasOf == "" {
		return nil
	}
	holder, err := a.meta.collection(ctx, contract.CollectionRef{DB: ref.DB, Name: tc.aliasOf})
	if err != nil {
		return err
	}
	if !holder.ours(a.conf.replicationID) {
		return permanentf("%s: %s.%s is an alias on the target of %s, which replication did not create: it is not dropped. "+
			"Drop the alias on the target (or map this collection elsewhere), then resume", st, ref.DB, ref.Name, tc.aliasOf)
	}
	resp, err := a.api.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: ref.DB, Alias: ref.Name})
	a.meta.forget(ref)
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop alias %s.%s (the name of a collection now)", ref.DB, ref.Name), resp, err)
}

// dropDangling drops alias ref if it names a dropped collection (Milvus 2.3
// keeps such aliases; a describe answers "not found", as for a free name).
// Milvus 2.3 lets a collection take the name of such an alias, but the
// alias hides it: every call by that name answers "collection not found".
// Dropping an alias that names no collection touches nobody's data.
func (a *applier) dropDangling(ctx context.Context, ref contract.CollectionRef) error {
	resp, err := a.api.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: ref.DB, Alias: ref.Name})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop alias %s.%s (if it names a dropped collection) before a collection takes the name", ref.DB, ref.Name), resp, err)
}

// dropAlias drops the alias when it still names this replication's copy
// (if it names another copy now, the source moved it there).
func (a *applier) dropAlias(ctx context.Context, st *applyStep) error {
	tc, err := a.locate(ctx, st)
	if err != nil || tc == nil {
		return err
	}
	holder, _, err := a.aliasHolder(ctx, st, st.target.DB, st.meta.Alias)
	if err != nil || holder == nil || !holder.copies(a.conf.replicationID, st.collID) {
		return err
	}
	resp, err := a.api.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: st.target.DB, Alias: st.meta.Alias})
	a.meta.forget(contract.CollectionRef{DB: st.target.DB, Name: st.meta.Alias})
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop alias %s.%s", st.target.DB, st.meta.Alias), resp, err)
}

// loadPartitions loads partitions of the copy. Before the copy has its
// index (its create_index can arrive after: the replicate channel has no
// time ticks) the load waits for it.
func (a *applier) loadPartitions(ctx context.Context, st *applyStep) error {
	tc, err := a.locate(ctx, st)
	if err != nil || tc == nil || tc.partitionKey {
		return err // a partition-key collection is loaded whole (load_collection)
	}
	for _, p := range st.meta.Partitions {
		if err := a.ensurePartition(ctx, st, tc, p); err != nil {
			return err
		}
	}
	resp, err := a.api.LoadPartitions(ctx, &milvuspb.LoadPartitionsRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionNames: st.meta.Partitions})
	if err == nil && resp.GetCode() == codeIndexNotFound {
		a.log.Infof("%s: %s.%s has no index yet; partitions %s are loaded once it has", st, st.target.DB, st.target.Name, strings.Join(st.meta.Partitions, ","))
		for _, p := range st.meta.Partitions {
			if !slices.Contains(a.pendingLoads[st.collID], p) {
				a.pendingLoads[st.collID] = append(a.pendingLoads[st.collID], p)
			}
		}
		return nil
	}
	return statusError(fmt.Sprintf("load partitions %s of %s.%s", strings.Join(st.meta.Partitions, ","), st.target.DB, st.target.Name), resp, err)
}

// codeIndexNotFound is Milvus's error code for a load without an index.
const codeIndexNotFound = 700

// loadPending loads the partitions that waited for the copy's index.
func (a *applier) loadPending(ctx context.Context, st *applyStep) error {
	parts := a.pendingLoads[st.collID]
	if st.collID == 0 || len(parts) == 0 {
		return nil
	}
	resp, err := a.api.LoadPartitions(ctx, &milvuspb.LoadPartitionsRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionNames: parts})
	if err == nil && resp.GetCode() == codeIndexNotFound {
		return nil // another field's index is still to come
	}
	if err := statusError(fmt.Sprintf("load partitions %s of %s.%s", strings.Join(parts, ","), st.target.DB, st.target.Name), resp, err); err != nil {
		return err
	}
	delete(a.pendingLoads, st.collID)
	return nil
}

func (a *applier) releasePartitions(ctx context.Context, st *applyStep) error {
	tc, err := a.locate(ctx, st)
	if err != nil || tc == nil || tc.partitionKey {
		return err
	}
	var parts []string
	for _, p := range st.meta.Partitions {
		if tc.partitions[p] {
			parts = append(parts, p)
		}
	}
	a.pendingLoads[st.collID] = slices.DeleteFunc(a.pendingLoads[st.collID], func(p string) bool { return slices.Contains(st.meta.Partitions, p) })
	if len(parts) == 0 {
		return nil
	}
	resp, err := a.api.ReleasePartitions(ctx, &milvuspb.ReleasePartitionsRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionNames: parts})
	return statusError(fmt.Sprintf("release partitions %s of %s.%s", strings.Join(parts, ","), st.target.DB, st.target.Name), resp, err)
}
