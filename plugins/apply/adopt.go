package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// replication says which target collections are this replication's: the
// ones it created (tagged with its id) and the copies of the earlier
// replications it adopts (a task deleted and created again over its copies).
type replication struct {
	id      string          // replication_id: the tag of what it creates
	cluster string          // source_cluster: tagged too; an adopted copy must carry it
	adopt   map[string]bool // adopt_replications
}

// String is the replication's id, as log lines name it.
func (r replication) String() string { return r.id }

func replicationFromParsed(conf *service.ParsedConfig) (replication, error) {
	r := replication{adopt: map[string]bool{}}
	var err error
	if r.id, err = conf.FieldString(maoFieldReplicationID); err != nil {
		return r, err
	}
	if r.cluster, err = conf.FieldString(maoFieldSourceCluster); err != nil {
		return r, err
	}
	ids, err := conf.FieldStringList(maoFieldAdopt)
	if err != nil {
		return r, err
	}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
			return r, fmt.Errorf("%s: an empty replication id (copies made before replication tags existed count as ours already)", maoFieldAdopt)
		case id == r.id:
			continue // its own copies are ours anyway
		}
		r.adopt[id] = true
	}
	return r, nil
}

// adopts reports whether c is a copy another replication made that this one
// takes over and has not re-tagged as its own yet.
func (r replication) adopts(c *targetColl) bool {
	return c.exists && c.owner != 0 && c.replication != "" && c.replication != r.id && r.adopt[c.replication] &&
		(r.cluster == "" || c.cluster == r.cluster)
}

// tags are the properties that make a collection this replication's copy of
// source collection id.
func (r replication) tags(id int64) []*commonpb.KeyValuePair {
	props := []*commonpb.KeyValuePair{{Key: ownerProperty, Value: fmt.Sprint(id)}}
	if r.id != "" {
		props = append(props, &commonpb.KeyValuePair{Key: replicationProperty, Value: r.id})
	}
	if r.cluster != "" {
		props = append(props, &commonpb.KeyValuePair{Key: clusterProperty, Value: r.cluster})
	}
	return props
}

// claim re-tags an adopted copy as this replication's own (a change other
// than the snapshot's create met it first), so that the replication's next
// successor can adopt it from this one. Milvus 2.3 sets any property with
// AlterCollection and keeps the others. A target refusing it keeps the copy
// adopted (still ours while adopt_replications lists its tag): logged only.
func (a *applier) claim(ctx context.Context, ref contract.CollectionRef, tc *targetColl) error {
	own := a.conf.replicationID
	if !own.adopts(tc) || own.id == "" {
		return nil
	}
	var props []*commonpb.KeyValuePair
	for _, kv := range own.tags(tc.owner) {
		if kv.GetKey() != ownerProperty {
			props = append(props, kv)
		}
	}
	resp, err := a.api.AlterCollection(ctx, &milvuspb.AlterCollectionRequest{DbName: ref.DB, CollectionName: ref.Name, Properties: props})
	err = statusError(fmt.Sprintf("re-tag adopted copy %s.%s as replication %q's", ref.DB, ref.Name, own.id), resp, err)
	switch {
	case err == nil:
		a.log.Infof("Target collection %s.%s, the copy replication %q made of source collection %d, is adopted: tagged as replication %q's",
			ref.DB, ref.Name, tc.replication, tc.owner, own.id)
		tc.replication, tc.cluster = own.id, own.cluster
		return nil
	case isPermanent(err):
		a.log.Warnf("%v; it stays adopted (this replication's while %s lists %q)", err, maoFieldAdopt, tc.replication)
		return nil
	}
	return err
}

// dropAdopted drops the adopted copy at ref, its aliases first (Milvus 2.3
// keeps an alias of a dropped collection, and the snapshot creates the
// source's aliases again). It describes the collection afresh and drops it
// only if it is still an adopted copy: nothing else is ever dropped here.
func (a *applier) dropAdopted(ctx context.Context, st *applyStep, ref contract.CollectionRef) error {
	a.meta.forget(ref)
	tc, err := a.meta.collection(ctx, ref)
	if err != nil || !tc.exists {
		return err
	}
	if !a.conf.replicationID.adopts(tc) {
		return permanentf("%s: %s.%s was to be dropped as an adopted copy, but it is tagged %s %q, %s %q now: not dropped",
			st, ref.DB, ref.Name, replicationProperty, tc.replication, clusterProperty, tc.cluster)
	}
	a.log.Infof("%s: target collection %s.%s is the copy replication %q made of source collection %d; adopted, it is dropped "+
		"and copied again from the source's current data (aliases %v are created again after it)", st, ref.DB, ref.Name, tc.replication, tc.owner, tc.aliases)
	for _, alias := range tc.aliases {
		resp, err := a.api.DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: ref.DB, Alias: alias})
		if err == nil && contract.NotFound(resp) {
			continue
		}
		if err := statusError(fmt.Sprintf("drop alias %s.%s of adopted copy %s", ref.DB, alias, ref.Name), resp, err); err != nil {
			return err
		}
		a.meta.forget(contract.CollectionRef{DB: ref.DB, Name: alias})
	}
	return a.dropTargetCollection(ctx, ref)
}
