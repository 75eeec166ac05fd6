package workload

import (
	"context"
	"fmt"
	"math/rand"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// Scenario is the replication workload of the milvus_apply tests: two
// databases, every field type, partitions, many 128-d rows, deletes,
// upserts, indexes, load/release, dropped partition, dropped collection and a
// database created and dropped again.
type Scenario struct {
	Addr   string // source Milvus
	Prefix string // database name prefix: <Prefix>_a, <Prefix>_b, <Prefix>_tmp
	Rows   int    // rows of the 128-d collection
	Logf   func(string, ...any)
}

// Databases lists the databases that exist after Run.
func (s Scenario) Databases() []string { return []string{s.Prefix + "_a", s.Prefix + "_b"} }

// AllDatabases lists every database Run touches.
func (s Scenario) AllDatabases() []string { return append(s.Databases(), s.Prefix+"_tmp") }

type step struct {
	what string
	do   func() error
}

// Run writes the workload. Each step is a plain SDK call, so the source
// sees exactly what a client would do.
func (s Scenario) Run(ctx context.Context) error {
	dbA, dbB, dbTmp := s.Databases()[0], s.Databases()[1], s.Prefix+"_tmp"
	admin, err := Connect(ctx, s.Addr)
	if err != nil {
		return err
	}
	defer admin.Close()
	for _, db := range []string{dbA, dbB} {
		if err := admin.CreateDatabase(ctx, db); err != nil {
			return fmt.Errorf("create database %s: %w", db, err)
		}
	}
	a, err := client.NewClient(ctx, client.Config{Address: s.Addr, DBName: dbA})
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := client.NewClient(ctx, client.Config{Address: s.Addr, DBName: dbB})
	if err != nil {
		return err
	}
	defer b.Close()
	rng := rand.New(rand.NewSource(42))
	ivf, _ := entity.NewIndexIvfFlat(entity.L2, 64)
	binIdx, _ := entity.NewIndexBinIvfFlat(entity.HAMMING, 16)
	insert := func(c client.Client, coll, part string, cols []entity.Column) func() error {
		return func() error { _, err := c.Insert(ctx, coll, part, cols...); return err }
	}
	steps := []step{
		{"create types", func() error { return a.CreateCollection(ctx, TypesSchema("types"), 2) }},
		{"create partitions", func() error {
			if err := a.CreatePartition(ctx, "types", "p1"); err != nil {
				return err
			}
			return a.CreatePartition(ctx, "types", "p2")
		}},
		{"insert types", insert(a, "types", "", TypesRows(0, 200))},
		{"insert types p1", insert(a, "types", "p1", TypesRows(200, 100))},
		{"insert types p2", insert(a, "types", "p2", TypesRows(300, 50))},
		{"upsert types", func() error { _, err := a.Upsert(ctx, "types", "", TypesRows(1000, 20)...); return err }},
		{"delete types", func() error {
			return a.DeleteByPks(ctx, "types", "", entity.NewColumnVarChar("pk", []string{"k3", "k4", "k205", "k1001"}))
		}},
		{"create vectors", func() error {
			return a.CreateCollection(ctx, VectorSchema("vectors", 128), 2, client.WithConsistencyLevel(entity.ClStrong))
		}},
		{"insert vectors", func() error { return InsertRows(ctx, a, "vectors", 0, s.Rows, 5000, 128, rng) }},
		{"delete vectors", func() error {
			var ids []int64
			for i := 0; i < s.Rows; i += 100 {
				ids = append(ids, int64(i))
			}
			return a.DeleteByPks(ctx, "vectors", "", entity.NewColumnInt64("id", ids))
		}},
		{"upsert vectors", func() error {
			_, err := a.Upsert(ctx, "vectors", "", Rows(int64(s.Rows/2), 2000, 128, rng)...)
			return err
		}},
		{"index+load vectors", func() error {
			if err := a.CreateIndex(ctx, "vectors", "vec", ivf, false, client.WithIndexName("vec_ivf")); err != nil {
				return err
			}
			return a.LoadCollection(ctx, "vectors", false)
		}},
		{"drop partition p2", func() error { return a.DropPartition(ctx, "types", "p2") }},
		{"index+load+release types", func() error {
			if err := a.CreateIndex(ctx, "types", "vec", ivf, false); err != nil {
				return err
			}
			if err := a.LoadCollection(ctx, "types", false); err != nil {
				return err
			}
			return a.ReleaseCollection(ctx, "types")
		}},
		{"create binary", func() error { return b.CreateCollection(ctx, BinarySchema("binary"), 1) }},
		{"insert binary", insert(b, "binary", "", BinaryRows(0, 256))},
		{"delete binary", func() error { return b.DeleteByPks(ctx, "binary", "", entity.NewColumnInt64("id", []int64{1, 2, 3})) }},
		{"index+load binary", func() error {
			if err := b.CreateIndex(ctx, "binary", "bvec", binIdx, false); err != nil {
				return err
			}
			return b.LoadCollection(ctx, "binary", false)
		}},
		{"autoid + partition key", func() error {
			if err := b.CreateCollection(ctx, AutoIDSchema("auto"), 2); err != nil {
				return err
			}
			ids, err := b.Insert(ctx, "auto", "", AutoIDRows(500)...)
			if err != nil {
				return err
			}
			keys := ids.(*entity.ColumnInt64).Data()
			if err := b.DeleteByPks(ctx, "auto", "", entity.NewColumnInt64("id", keys[:10])); err != nil {
				return err
			}
			if err := b.CreateIndex(ctx, "auto", "vec", ivf, false); err != nil {
				return err
			}
			return b.LoadCollection(ctx, "auto", false)
		}},
		{"create+drop dropme", func() error {
			if err := b.CreateCollection(ctx, VectorSchema("dropme", 8), 1); err != nil {
				return err
			}
			if err := InsertRows(ctx, b, "dropme", 0, 100, 100, 8, rng); err != nil {
				return err
			}
			return b.DropCollection(ctx, "dropme")
		}},
		{"create+drop database", func() error { return tmpDatabase(ctx, admin, s.Addr, dbTmp, rng) }},
	}
	for _, st := range steps {
		if s.Logf != nil {
			s.Logf("workload: %s", st.what)
		}
		if err := st.do(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

func tmpDatabase(ctx context.Context, admin client.Client, addr, db string, rng *rand.Rand) error {
	if err := admin.CreateDatabase(ctx, db); err != nil {
		return err
	}
	c, err := client.NewClient(ctx, client.Config{Address: addr, DBName: db})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.CreateCollection(ctx, VectorSchema("short_lived", 8), 1); err != nil {
		return err
	}
	if err := InsertRows(ctx, c, "short_lived", 0, 50, 50, 8, rng); err != nil {
		return err
	}
	if err := c.DropCollection(ctx, "short_lived"); err != nil {
		return err
	}
	return admin.DropDatabase(ctx, db)
}

// DropDatabases removes every database of the scenario (and their
// collections) from one Milvus; for test clean-up.
func (s Scenario) DropDatabases(ctx context.Context, addr string) {
	for _, db := range s.AllDatabases() {
		c, err := client.NewClient(ctx, client.Config{Address: addr, DBName: db})
		if err != nil {
			continue
		}
		if colls, err := c.ListCollections(ctx); err == nil {
			for _, coll := range colls {
				_ = c.DropCollection(ctx, coll.Name)
			}
		}
		_ = c.Close()
		if admin, err := Connect(ctx, addr); err == nil {
			_ = admin.DropDatabase(ctx, db)
			_ = admin.Close()
		}
	}
}
