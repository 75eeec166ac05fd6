package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// benchSchema: an Int64 primary key given by the client and one float vector.
func benchSchema(name string, dim int) *entity.Schema {
	return entity.NewSchema().WithName(name).WithDescription("milvus-cdc input benchmark").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(int64(dim)))
}

// fill inserts o.rows rows into coll in inserts of o.batch rows. Random
// vectors, so ZSTD on the Pulsar side cannot shrink them much, as in real data.
func fill(ctx context.Context, c client.Client, coll string, o *options) error {
	rng := rand.New(rand.NewSource(1))
	nextReport := o.rows / 10
	start := time.Now()
	for done := 0; done < o.rows; {
		n := min(o.batch, o.rows-done)
		ids, vecs := benchRows(int64(done), n, o.dim, rng)
		if _, err := c.Insert(ctx, coll, "", ids, vecs); err != nil {
			return fmt.Errorf("insert rows %d..%d into %s: %w", done, done+n-1, coll, err)
		}
		done += n
		if done >= nextReport && done < o.rows {
			fmt.Fprintf(os.Stderr, "fill: %d/%d rows (%.0f s)\n", done, o.rows, time.Since(start).Seconds())
			nextReport += o.rows / 10
		}
	}
	return nil
}

// benchRows builds n rows with keys first..first+n-1.
func benchRows(first int64, n, dim int, rng *rand.Rand) (entity.Column, entity.Column) {
	ids := make([]int64, n)
	vecs := make([][]float32, n)
	flat := make([]float32, n*dim) // one allocation for all vectors of the batch
	for i := range n {
		ids[i] = first + int64(i)
		v := flat[i*dim : (i+1)*dim : (i+1)*dim]
		for j := range v {
			v[j] = rng.Float32()
		}
		vecs[i] = v
	}
	return entity.NewColumnInt64("id", ids), entity.NewColumnFloatVector("vec", dim, vecs)
}
