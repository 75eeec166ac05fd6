package apply

import (
	"context"
	"fmt"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// createCollection creates the target collection if it is missing. When the
// name is taken by an older incarnation (its drop is still to come, Milvus
// writes drops late) that one is dropped first; a newer one means this is a
// replay and nothing is done. A collection replication did not create (nor
// adopts) is a permanent error. A copy adopted from an earlier replication
// is dropped and created again when the snapshot's create meets it (the
// snapshot then copies the source's rows into it), and re-tagged as this
// replication's when a stream's create does.
func (a *applier) createCollection(ctx context.Context, st *applyStep) error {
	var req msgpb.CreateCollectionRequest
	var schema schemapb.CollectionSchema
	if err := proto.Unmarshal(st.payload, &req); err != nil {
		return permanentf("%s: decode: %v", st, err)
	}
	if err := proto.Unmarshal(req.GetSchema(), &schema); err != nil {
		return permanentf("%s: decode schema: %v", st, err)
	}
	if st.collID == 0 {
		st.collID = req.GetCollectionID()
	}
	if st.sourceGone {
		// Read from history: the source dropped it since, and that drop is
		// still to come in the stream. Creating it would only be undone.
		return nil
	}
	want := targetSchema(&schema, st.target.Name)
	if err := a.ensureDatabase(ctx, st.target.DB); err != nil {
		return err
	}
	tc, err := a.meta.collection(ctx, st.target)
	if err != nil {
		return err
	}
	own := a.conf.replicationID
	if !tc.copies(own, st.collID) {
		// Copied already under another name (a rename still to come).
		ref, found, err := a.meta.findCopy(ctx, own, st.collID)
		if err != nil {
			return err
		}
		if found {
			elsewhere, err := a.meta.collection(ctx, ref)
			if err != nil || !st.meta.Snapshot || !own.adopts(elsewhere) {
				return err
			}
			// The snapshot puts the copy at the name the source has now.
			if err := a.dropAdopted(ctx, st, ref); err != nil {
				return err
			}
			if tc, err = a.meta.collection(ctx, st.target); err != nil {
				return err
			}
		}
	}
	if err := a.freeName(ctx, st, st.target, tc); err != nil {
		return err
	}
	if tc.exists {
		if create, err := a.replaceExisting(ctx, st, tc); err != nil || !create {
			return err
		}
	}
	props := own.tags(st.collID)
	for k, v := range st.meta.Properties {
		if !tagProperty(k) {
			props = append(props, &commonpb.KeyValuePair{Key: k, Value: v})
		}
	}
	level := commonpb.ConsistencyLevel_Bounded
	if l, ok := commonpb.ConsistencyLevel_value[st.meta.ConsistencyLevel]; ok {
		level = commonpb.ConsistencyLevel(l)
	}
	shards := int32(len(req.GetVirtualChannelNames()))
	if shards == 0 {
		shards = 1
	}
	var numPartitions int64
	for _, f := range want.GetFields() {
		if f.GetIsPartitionKey() {
			numPartitions = int64(len(req.GetPartitionIDs()))
		}
	}
	b, err := proto.Marshal(want)
	if err != nil {
		return permanentf("%s: encode schema: %v", st, err)
	}
	resp, err := a.api.CreateCollection(ctx, &milvuspb.CreateCollectionRequest{
		DbName: st.target.DB, CollectionName: st.target.Name, Schema: b, ShardsNum: shards,
		ConsistencyLevel: level, Properties: props, NumPartitions: numPartitions,
	})
	a.meta.forget(st.target)
	if err := statusError(fmt.Sprintf("create collection %s.%s", st.target.DB, st.target.Name), resp, err); err != nil {
		return err
	}
	a.created(st.target)
	return nil
}

// replaceExisting decides about the collection that has the name a
// create_collection creates: create is true when it was dropped to make
// room (an adopted copy met by the snapshot, an older incarnation).
func (a *applier) replaceExisting(ctx context.Context, st *applyStep, tc *targetColl) (create bool, err error) {
	own := a.conf.replicationID
	switch {
	case !tc.ours(own):
		return false, notOurs(st, tc)
	case st.meta.Snapshot && own.adopts(tc):
		// Rows the source deleted or changed while no replication ran are
		// still in it: the snapshot copies into a new, empty collection.
		return true, a.dropAdopted(ctx, st, st.target)
	case tc.owner == st.collID:
		return false, a.claim(ctx, st.target, tc) // created already (another channel's copy, or a replay)
	case tc.owner > st.collID:
		return false, nil // a replay: the target copies a newer incarnation
	}
	a.log.Infof("Target collection %s.%s copies source collection %d, which was dropped and recreated as %d: replacing it", st.target.DB, st.target.Name, tc.owner, st.collID)
	if own.adopts(tc) {
		return true, a.dropAdopted(ctx, st, st.target)
	}
	return true, a.dropTargetCollection(ctx, st.target)
}

// targetSchema is the source schema as the target gets it: without the
// system fields (RowID, Timestamp) and the generated `$meta` field, and with
// AutoID off so that the source's keys are kept.
func targetSchema(s *schemapb.CollectionSchema, name string) *schemapb.CollectionSchema {
	out := &schemapb.CollectionSchema{
		Name: name, Description: s.GetDescription(), EnableDynamicField: s.GetEnableDynamicField(),
	}
	for _, f := range s.GetFields() {
		if f.GetFieldID() < 100 || f.GetIsDynamic() {
			continue
		}
		c := proto.Clone(f).(*schemapb.FieldSchema)
		c.AutoID, c.FieldID = false, 0
		out.Fields = append(out.Fields, c)
	}
	return out
}

// schemaDiff names the first difference that matters between two schemas
// (IDs and AutoID aside); empty when they match.
func schemaDiff(have, want *schemapb.CollectionSchema) string {
	if have.GetEnableDynamicField() != want.GetEnableDynamicField() {
		return "dynamic field differs"
	}
	var fields []*schemapb.FieldSchema
	for _, f := range have.GetFields() {
		if f.GetFieldID() >= 100 && !f.GetIsDynamic() {
			fields = append(fields, f)
		}
	}
	if len(fields) != len(want.GetFields()) {
		return fmt.Sprintf("%d fields, the source has %d", len(fields), len(want.GetFields()))
	}
	for i, w := range want.GetFields() {
		h := fields[i]
		if h.GetName() != w.GetName() || h.GetDataType() != w.GetDataType() || h.GetIsPrimaryKey() != w.GetIsPrimaryKey() ||
			h.GetElementType() != w.GetElementType() || h.GetIsPartitionKey() != w.GetIsPartitionKey() ||
			!sameParams(h.GetTypeParams(), w.GetTypeParams()) {
			return fmt.Sprintf("field %q differs", w.GetName())
		}
	}
	return ""
}

func sameParams(a, b []*commonpb.KeyValuePair) bool {
	m := map[string]string{}
	for _, kv := range a {
		m[kv.GetKey()] = kv.GetValue()
	}
	if len(a) != len(b) {
		return false
	}
	for _, kv := range b {
		if v, ok := m[kv.GetKey()]; !ok || v != kv.GetValue() {
			return false
		}
	}
	return true
}

// dropCollection drops this replication's copy of the source collection,
// found by its ID tag wherever a rename put it; Milvus writes one drop per
// channel and sometimes late, after the name was reused. A collection
// replication did not create is never dropped.
func (a *applier) dropCollection(ctx context.Context, st *applyStep) error {
	tc, err := a.meta.collection(ctx, st.target)
	if err != nil {
		return err
	}
	if tc.copies(a.conf.replicationID, st.collID) {
		return a.dropTargetCollection(ctx, st.target)
	}
	if st.collID != 0 {
		ref, found, err := a.meta.findCopy(ctx, a.conf.replicationID, st.collID)
		if err != nil || !found {
			return err
		}
		a.log.Infof("Dropping %s.%s, the copy of dropped source collection %d", ref.DB, ref.Name, st.collID)
		return a.dropTargetCollection(ctx, ref)
	}
	if tc.exists && !tc.ours(a.conf.replicationID) {
		a.log.Warnf("%s: not dropping target collection %s.%s: replication did not create it", st, st.target.DB, st.target.Name)
	}
	return nil
}

func (a *applier) dropTargetCollection(ctx context.Context, ref contract.CollectionRef) error {
	a.settleYoung(ctx, ref)
	resp, err := a.api.DropCollection(ctx, &milvuspb.DropCollectionRequest{DbName: ref.DB, CollectionName: ref.Name})
	a.meta.forget(ref)
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop collection %s.%s", ref.DB, ref.Name), resp, err)
}

// copyOf returns this replication's copy of the step's source collection
// (see locate); nil when there is none (it was made before the start
// position, or the target holds an older incarnation's).
func (a *applier) copyOf(ctx context.Context, st *applyStep) (*targetColl, error) {
	return a.locate(ctx, st)
}

// alterCollection sets the properties the source collection has now (Milvus
// 2.3 logs no AlterCollection: the input learns them from the source's
// catalog) on this replication's copy; the copy's own tags stay.
func (a *applier) alterCollection(ctx context.Context, st *applyStep) error {
	tc, err := a.copyOf(ctx, st)
	if err != nil || tc == nil {
		return err
	}
	var props []*commonpb.KeyValuePair
	for k, v := range st.meta.Properties {
		if !tagProperty(k) {
			props = append(props, &commonpb.KeyValuePair{Key: k, Value: v})
		}
	}
	if len(props) == 0 {
		return nil // 2.3 cannot remove a property
	}
	resp, err := a.api.AlterCollection(ctx, &milvuspb.AlterCollectionRequest{DbName: st.target.DB, CollectionName: st.target.Name, Properties: props})
	return statusError(fmt.Sprintf("set properties of %s.%s", st.target.DB, st.target.Name), resp, err)
}

// createPartition makes a partition the source has before any row of it
// arrived (Milvus 2.3 logs no CreatePartition: the input learns it from the
// source's catalog). The target must hold this task's copy of the
// collection; rows of a collection it does not copy fail on their own.
func (a *applier) createPartition(ctx context.Context, st *applyStep) error {
	tc, err := a.copyOf(ctx, st)
	if err != nil || tc == nil || st.partition == "_default" || tc.partitionKey {
		return err
	}
	return a.ensurePartition(ctx, st, tc, st.partition)
}

// ensurePartition creates partition part of the target collection unless it
// is known to exist.
func (a *applier) ensurePartition(ctx context.Context, st *applyStep, tc *targetColl, part string) error {
	if part == "" || tc.partitions[part] {
		return nil
	}
	resp, err := a.api.CreatePartition(ctx, &milvuspb.CreatePartitionRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionName: part})
	if err == nil && contract.AlreadyExists(resp) {
		resp = nil
	}
	if err := statusError(fmt.Sprintf("create partition %s of %s.%s", part, st.target.DB, st.target.Name), resp, err); err != nil {
		return err
	}
	tc.partitions[part] = true
	return nil
}

func (a *applier) dropPartition(ctx context.Context, st *applyStep) error {
	tc, err := a.copyOf(ctx, st)
	if err != nil || tc == nil || st.partition == "" || st.partition == "_default" || tc.partitionKey {
		return err
	}
	req := &milvuspb.DropPartitionRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionName: st.partition}
	resp, err := a.api.DropPartition(ctx, req)
	if err == nil && resp.GetErrorCode() != commonpb.ErrorCode_Success && !contract.NotFound(resp) {
		// The source may have released only this partition (not logged in
		// 2.3): release it here too, then drop.
		rel, rerr := a.api.ReleasePartitions(ctx, &milvuspb.ReleasePartitionsRequest{DbName: st.target.DB, CollectionName: st.target.Name, PartitionNames: []string{st.partition}})
		if statusError("release partition "+st.partition, rel, rerr) == nil {
			resp, err = a.api.DropPartition(ctx, req)
		}
	}
	delete(tc.partitions, st.partition)
	if err == nil && contract.NotFound(resp) {
		return nil
	}
	return statusError(fmt.Sprintf("drop partition %s of %s.%s", st.partition, st.target.DB, st.target.Name), resp, err)
}
