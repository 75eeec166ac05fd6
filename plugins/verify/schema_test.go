package verify

import (
	"strings"
	"testing"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// collection wraps a schema as DescribeCollection returns it.
func collection(s *entity.Schema) *entity.Collection {
	return &entity.Collection{Schema: s, ShardNum: 1, ConsistencyLevel: entity.ClBounded, Properties: map[string]string{}}
}

func schemaDiffs(s, t *entity.Collection) []string {
	rep := &Report{}
	compareSchema(&collDiffs{rep: rep, db: "db", coll: "c", max: -1}, s, t)
	var out []string
	for _, d := range rep.Diffs {
		if d.Kind != KindSchema {
			out = append(out, "wrong kind "+d.Kind)
		}
		out = append(out, d.Detail)
	}
	return out
}

func TestCompareSchemaSame(t *testing.T) {
	s := collection(workload.TypesSchema("c"))
	tg := collection(workload.TypesSchema("c"))
	// Left out on purpose: AutoID, IDs, the replicator's properties.
	s.Schema.AutoID, s.ID, s.Schema.Fields[0].ID = true, 1, 100
	s.Schema.Fields[0].AutoID = true
	tg.Properties["milvus_cdc.source"] = "x"
	if d := schemaDiffs(s, tg); len(d) != 0 {
		t.Errorf("differences: %v", d)
	}
}

func TestCompareSchemaDifferences(t *testing.T) {
	s := collection(workload.VectorSchema("c", 128))
	s.Properties["collection.ttl.seconds"] = "60"
	tg := collection(entity.NewSchema().WithName("c").WithDescription("other").WithDynamicFieldEnabled(true).
		WithField(entity.NewField().WithName("title").WithDataType(entity.FieldTypeVarChar).WithMaxLength(64)).
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("extra").WithDataType(entity.FieldTypeBool)))
	tg.ShardNum, tg.ConsistencyLevel = 2, entity.ClStrong
	want := []string{
		`description: source "milvus-cdc test collection", target "other"`,
		"dynamic field enabled: source false, target true",
		"shards: source 1, target 2",
		"consistency level: source Bounded, target Strong",
		`property collection.ttl.seconds: missing on the target (source "60")`,
		`field "title": type param max_length: source "128", target "64"`,
		`field "vec" (FloatVector) is missing on the target`,
		`field "extra" (Bool) exists only on the target`,
		"field order: source [id title], target [title id]",
	}
	got := schemaDiffs(s, tg)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompareFieldAttributes(t *testing.T) {
	f := func() *entity.Field {
		return entity.NewField().WithName("a").WithDataType(entity.FieldTypeArray).
			WithElementType(entity.FieldTypeInt64).WithMaxCapacity(8)
	}
	g := f().WithElementType(entity.FieldTypeInt32).WithMaxCapacity(4).WithIsPartitionKey(true)
	g.Description = "d"
	got := strings.Join(diffField(f(), g), "\n")
	for _, want := range []string{
		"partition key: source false, target true",
		"element type: source Int64, target Int32",
		`description: source "", target "d"`,
		`type param max_capacity: source "8", target "4"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestDiffParamsJSON(t *testing.T) {
	s := map[string]string{"index_type": "IVF_FLAT", "metric_type": "L2", "params": `{"nlist":"16"}`}
	same := map[string]string{"index_type": "IVF_FLAT", "metric_type": "L2", "params": `{ "nlist": "16" }`}
	if d := diffParams(s, same); len(d) != 0 {
		t.Errorf("same params differ: %v", d)
	}
	other := map[string]string{"index_type": "HNSW", "metric_type": "L2", "params": `{"nlist":"32"}`}
	if d := diffParams(s, other); len(d) != 2 {
		t.Errorf("want 2 differences, got %v", d)
	}
}

func TestRowsPerFetch(t *testing.T) {
	if n := rowsPerFetch(workload.VectorSchema("c", 128), 1000); n != 1000 {
		t.Errorf("128-d: %d", n)
	}
	if n := rowsPerFetch(workload.VectorSchema("c", 32768), 1000); n != 127 {
		t.Errorf("32768-d: %d", n)
	}
	if n := rowsPerFetch(workload.VectorSchema("c", 1<<30), 1000); n != 1 {
		t.Errorf("huge: %d", n)
	}
}
