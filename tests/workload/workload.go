// Package workload writes test data to a Milvus with milvus-sdk-go. The demo,
// the stack tests and the benchmarks share it.
package workload

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// Connect opens a client to the Milvus at addr (`host:port`).
func Connect(ctx context.Context, addr string) (client.Client, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.NewClient(cctx, client.Config{Address: addr})
	if err != nil {
		return nil, fmt.Errorf("connect to milvus at %s: %w", addr, err)
	}
	return c, nil
}

// VectorSchema is a collection with an Int64 primary key (not auto), a
// VarChar, and a float vector of dim dimensions.
func VectorSchema(name string, dim int) *entity.Schema {
	return entity.NewSchema().WithName(name).WithDescription("milvus-cdc test collection").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("title").WithDataType(entity.FieldTypeVarChar).WithMaxLength(128)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(int64(dim)))
}

// Rows builds n rows with keys first..first+n-1 for VectorSchema.
func Rows(first int64, n, dim int, rng *rand.Rand) []entity.Column {
	ids := make([]int64, n)
	titles := make([]string, n)
	vecs := make([][]float32, n)
	for i := 0; i < n; i++ {
		ids[i] = first + int64(i)
		titles[i] = fmt.Sprintf("row-%d", ids[i])
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()
		}
		vecs[i] = v
	}
	return []entity.Column{
		entity.NewColumnInt64("id", ids),
		entity.NewColumnVarChar("title", titles),
		entity.NewColumnFloatVector("vec", dim, vecs),
	}
}

// InsertRows inserts total rows into coll in batches, keys starting at first.
func InsertRows(ctx context.Context, c client.Client, coll string, first int64, total, batch, dim int, rng *rand.Rand) error {
	for done := 0; done < total; done += batch {
		n := batch
		if total-done < n {
			n = total - done
		}
		if _, err := c.Insert(ctx, coll, "", Rows(first+int64(done), n, dim, rng)...); err != nil {
			return fmt.Errorf("insert into %s: %w", coll, err)
		}
	}
	return nil
}

// IndexAndLoad flushes coll, builds an IVF_FLAT index on vec and loads it.
func IndexAndLoad(ctx context.Context, c client.Client, coll string) error {
	if err := c.Flush(ctx, coll, false); err != nil {
		return fmt.Errorf("flush %s: %w", coll, err)
	}
	idx, err := entity.NewIndexIvfFlat(entity.L2, 16)
	if err != nil {
		return err
	}
	if err := c.CreateIndex(ctx, coll, "vec", idx, false, client.WithIndexName("vec_ivf")); err != nil {
		return fmt.Errorf("create index on %s: %w", coll, err)
	}
	if err := c.LoadCollection(ctx, coll, false); err != nil {
		return fmt.Errorf("load %s: %w", coll, err)
	}
	return nil
}
