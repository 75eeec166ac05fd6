package milvus

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// rowSource reads current rows from the source Milvus.
type rowSource interface {
	describe(ctx context.Context, db, coll string) (*schemapb.CollectionSchema, error)
	partitions(ctx context.Context, db, coll string) ([]string, error)
	// query returns the rows matching expr in one partition, as the source
	// shows them once it has applied everything up to timestamp guarantee.
	query(ctx context.Context, db, coll, partition, expr string, fields []string, guarantee uint64) ([]*schemapb.FieldData, error)
}

func (g grpcMetaLister) describe(ctx context.Context, db, coll string) (*schemapb.CollectionSchema, error) {
	resp, err := g.svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: coll})
	if err := statusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetSchema(), nil
}

func (g grpcMetaLister) partitions(ctx context.Context, db, coll string) ([]string, error) {
	resp, err := g.svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: db, CollectionName: coll})
	if err := statusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetPartitionNames(), nil
}

// query uses a customized consistency level: Strong would make every query
// wait for the source's next time tick (~200 ms on Milvus 2.3), while the
// reader only needs what it has read already to be visible, which the
// source has (almost always) applied by then: ~3 ms a query.
func (g grpcMetaLister) query(ctx context.Context, db, coll, partition, expr string, fields []string, guarantee uint64) ([]*schemapb.FieldData, error) {
	resp, err := g.svc.Query(ctx, &milvuspb.QueryRequest{DbName: db, CollectionName: coll, PartitionNames: []string{partition},
		Expr: expr, OutputFields: fields, ConsistencyLevel: commonpb.ConsistencyLevel_Customized, GuaranteeTimestamp: guarantee})
	if err := statusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetFieldsData(), nil
}

// collectionShape is what reading a collection's rows back needs.
type collectionShape struct {
	pk      string
	fields  []string // every user field (and $meta for dynamic fields)
	parts   []string
	fetched time.Time
}

// shapeTTL bounds how long a shape is trusted; an insert into a partition
// the shape lacks, or a failed query, fetches it again at once.
const shapeTTL = 10 * time.Second

// shapeCache keeps the shapes of the collections one channel reader repairs
// (used by that reader alone: no locking).
type shapeCache struct {
	src  rowSource
	now  func() time.Time
	byID map[int64]*collectionShape
}

func newShapeCache(src rowSource) *shapeCache {
	return &shapeCache{src: src, now: time.Now, byID: map[int64]*collectionShape{}}
}

func (s *shapeCache) get(ctx context.Context, ev *walEvent) (*collectionShape, error) {
	sh := s.byID[ev.CollectionID]
	if sh != nil && s.now().Sub(sh.fetched) < shapeTTL &&
		(ev.Op != OpInsert || ev.PartitionName == "" || slices.Contains(sh.parts, ev.PartitionName)) {
		return sh, nil
	}
	schema, err := s.src.describe(ctx, ev.DbName, ev.CollectionName)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	sh = &collectionShape{fetched: s.now()}
	for _, f := range schema.GetFields() {
		if f.GetIsPrimaryKey() {
			sh.pk = f.GetName()
		}
		if f.GetFieldID() >= 100 && !f.GetIsDynamic() {
			sh.fields = append(sh.fields, f.GetName())
		}
	}
	if sh.pk == "" {
		return nil, fmt.Errorf("no primary key in the schema")
	}
	if schema.GetEnableDynamicField() {
		sh.fields = append(sh.fields, "$meta")
	}
	if sh.parts, err = s.src.partitions(ctx, ev.DbName, ev.CollectionName); err != nil {
		return nil, fmt.Errorf("show partitions: %w", err)
	}
	s.byID[ev.CollectionID] = sh
	return sh, nil
}

// forget drops a shape that may be stale (a query with it failed).
func (s *shapeCache) forget(id int64) { delete(s.byID, id) }
