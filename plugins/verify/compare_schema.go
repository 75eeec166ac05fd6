package verify

import (
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// cdcPropertyPrefix marks collection properties the replicator may set on a
// target collection; they are not part of the source's schema.
const cdcPropertyPrefix = "milvus_cdc."

// compareSchema compares what defines a collection: description, dynamic
// field, shards, consistency level, properties and fields. AutoID is left
// out on purpose (the target keeps the source's keys, so its AutoID is off),
// and so are collection and field IDs.
func compareSchema(cd *collDiffs, s, t *entity.Collection) {
	ss, ts := s.Schema, t.Schema
	if ss.Description != ts.Description {
		cd.meta(KindSchema, "description: source %q, target %q", ss.Description, ts.Description)
	}
	if ss.EnableDynamicField != ts.EnableDynamicField {
		cd.meta(KindSchema, "dynamic field enabled: source %v, target %v", ss.EnableDynamicField, ts.EnableDynamicField)
	}
	if s.ShardNum != t.ShardNum {
		cd.meta(KindSchema, "shards: source %d, target %d", s.ShardNum, t.ShardNum)
	}
	if s.ConsistencyLevel != t.ConsistencyLevel {
		cd.meta(KindSchema, "consistency level: source %s, target %s",
			commonpb.ConsistencyLevel(s.ConsistencyLevel), commonpb.ConsistencyLevel(t.ConsistencyLevel))
	}
	for _, d := range diffProperties(s.Properties, t.Properties) {
		cd.meta(KindSchema, "property %s", d)
	}
	compareFields(cd, ss.Fields, ts.Fields)
}

// diffProperties lists the differing, missing and extra collection
// properties, leaving out the replicator's own (milvus_cdc.*: the target's
// copy carries them, the source does not).
func diffProperties(s, t map[string]string) []string {
	return diffParams(userProperties(s), userProperties(t))
}

// userProperties drops the replicator's own properties.
func userProperties(props map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if !strings.HasPrefix(k, cdcPropertyPrefix) {
			out[k] = v
		}
	}
	return out
}

// compareFields compares fields by name, then their order.
func compareFields(cd *collDiffs, sf, tf []*entity.Field) {
	tByName := map[string]*entity.Field{}
	for _, f := range tf {
		tByName[f.Name] = f
	}
	sByName := map[string]bool{}
	var sOrder, tOrder []string
	for _, f := range sf {
		sByName[f.Name] = true
		t, ok := tByName[f.Name]
		if !ok {
			cd.meta(KindSchema, "field %q (%s) is missing on the target", f.Name, f.DataType.Name())
			continue
		}
		sOrder = append(sOrder, f.Name)
		for _, d := range diffField(f, t) {
			cd.meta(KindSchema, "field %q: %s", f.Name, d)
		}
	}
	for _, f := range tf {
		if !sByName[f.Name] {
			cd.meta(KindSchema, "field %q (%s) exists only on the target", f.Name, f.DataType.Name())
			continue
		}
		tOrder = append(tOrder, f.Name)
	}
	if strings.Join(sOrder, ",") != strings.Join(tOrder, ",") {
		cd.meta(KindSchema, "field order: source [%s], target [%s]", strings.Join(sOrder, " "), strings.Join(tOrder, " "))
	}
}

// diffField lists the differences of two fields of the same name.
func diffField(s, t *entity.Field) []string {
	var out []string
	add := func(what string, sv, tv any) {
		if sv != tv {
			out = append(out, fmt.Sprintf("%s: source %v, target %v", what, sv, tv))
		}
	}
	add("type", s.DataType.Name(), t.DataType.Name())
	add("primary key", s.PrimaryKey, t.PrimaryKey)
	add("dynamic", s.IsDynamic, t.IsDynamic)
	add("partition key", s.IsPartitionKey, t.IsPartitionKey)
	add("clustering key", s.IsClusteringKey, t.IsClusteringKey)
	if s.DataType == entity.FieldTypeArray || t.DataType == entity.FieldTypeArray {
		add("element type", s.ElementType.Name(), t.ElementType.Name())
	}
	add("description", fmt.Sprintf("%q", s.Description), fmt.Sprintf("%q", t.Description))
	// Type parameters: dim, max_length, max_capacity, ...
	for _, d := range diffParams(s.TypeParams, t.TypeParams) {
		out = append(out, "type param "+d)
	}
	return out
}
