package sourcemeta

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// RowSource reads current rows from the source Milvus.
type RowSource interface {
	Describe(ctx context.Context, db, coll string) (*schemapb.CollectionSchema, error)
	Partitions(ctx context.Context, db, coll string) ([]string, error)
	// query returns the rows matching expr in one partition, as the source
	// shows them once it has applied everything up to timestamp guarantee.
	Query(ctx context.Context, db, coll, partition, expr string, fields []string, guarantee uint64) ([]*schemapb.FieldData, error)
}

func (g GRPC) Describe(ctx context.Context, db, coll string) (*schemapb.CollectionSchema, error) {
	resp, err := g.Svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetSchema(), nil
}

func (g GRPC) Partitions(ctx context.Context, db, coll string) ([]string, error) {
	resp, err := g.Svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: db, CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetPartitionNames(), nil
}

// Query uses a customized consistency level: Strong would make every query
// wait for the source's next time tick (~200 ms on Milvus 2.3), while the
// reader only needs what it has read already to be visible, which the
// source has (almost always) applied by then: ~3 ms a query.
func (g GRPC) Query(ctx context.Context, db, coll, partition, expr string, fields []string, guarantee uint64) ([]*schemapb.FieldData, error) {
	resp, err := g.Svc.Query(ctx, &milvuspb.QueryRequest{DbName: db, CollectionName: coll, PartitionNames: []string{partition},
		Expr: expr, OutputFields: fields, ConsistencyLevel: commonpb.ConsistencyLevel_Customized, GuaranteeTimestamp: guarantee})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetFieldsData(), nil
}

// Shape is what reading a collection's rows back needs.
type Shape struct {
	PK      string
	Fields  []string // every user field (and $meta for dynamic fields)
	Parts   []string
	fetched time.Time
}

// shapeTTL bounds how long a shape is trusted; an insert into a partition
// the shape lacks, or a failed query, fetches it again at once.
const shapeTTL = 10 * time.Second

// Shapes keeps the shapes of the collections one channel reader repairs
// (used by that reader alone: no locking).
type Shapes struct {
	src  RowSource
	now  func() time.Time
	byID map[int64]*Shape
}

func NewShapes(src RowSource) *Shapes {
	return &Shapes{src: src, now: time.Now, byID: map[int64]*Shape{}}
}

func (s *Shapes) Get(ctx context.Context, ev *wal.Event) (*Shape, error) {
	sh := s.byID[ev.CollectionID]
	if sh != nil && s.now().Sub(sh.fetched) < shapeTTL &&
		(ev.Op != contract.OpInsert || ev.PartitionName == "" || slices.Contains(sh.Parts, ev.PartitionName)) {
		return sh, nil
	}
	schema, err := s.src.Describe(ctx, ev.DbName, ev.CollectionName)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	sh = &Shape{fetched: s.now()}
	for _, f := range schema.GetFields() {
		if f.GetIsPrimaryKey() {
			sh.PK = f.GetName()
		}
		if f.GetFieldID() >= 100 && !f.GetIsDynamic() {
			sh.Fields = append(sh.Fields, f.GetName())
		}
	}
	if sh.PK == "" {
		return nil, fmt.Errorf("no primary key in the schema")
	}
	if schema.GetEnableDynamicField() {
		sh.Fields = append(sh.Fields, "$meta")
	}
	if sh.Parts, err = s.src.Partitions(ctx, ev.DbName, ev.CollectionName); err != nil {
		return nil, fmt.Errorf("show partitions: %w", err)
	}
	s.byID[ev.CollectionID] = sh
	return sh, nil
}

// Forget drops a shape that may be stale (a query with it failed).
func (s *Shapes) Forget(id int64) { delete(s.byID, id) }

// Source is where the shapes come from (and rows are queried).
func (s *Shapes) Source() RowSource { return s.src }

// ErrNotLoaded: the source answers queries only for loaded collections.
var ErrNotLoaded = errors.New("the collection is not loaded on the source")

// QueryPage reads the rows matching expr at guarantee timestamp guarantee:
// every one (limit <= 0), or up to limit of them with the query iterator's
// parameters (`iterator`, `reduce_stop_for_best`). Milvus 2.3 does not
// promise the smallest keys under a limit (see snapshot.Pager).
func (g GRPC) QueryPage(ctx context.Context, db, coll, partition, expr string, fields []string, limit int, guarantee uint64) ([]*schemapb.FieldData, error) {
	var parts []string
	if partition != "" {
		parts = []string{partition}
	}
	var params []*commonpb.KeyValuePair
	if limit > 0 {
		params = []*commonpb.KeyValuePair{
			{Key: "limit", Value: strconv.Itoa(limit)}, {Key: "iterator", Value: "true"}, {Key: "reduce_stop_for_best", Value: "true"},
		}
	}
	resp, err := g.Svc.Query(ctx, &milvuspb.QueryRequest{DbName: db, CollectionName: coll, PartitionNames: parts,
		Expr: expr, OutputFields: fields, ConsistencyLevel: commonpb.ConsistencyLevel_Customized, GuaranteeTimestamp: guarantee,
		QueryParams: params})
	if err == nil && contract.NotLoaded(resp.GetStatus()) {
		return nil, fmt.Errorf("%w: %s", ErrNotLoaded, resp.GetStatus().GetReason())
	}
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetFieldsData(), nil
}
