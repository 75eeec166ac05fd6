package sourcemeta

import (
	"context"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Resolver fills in what a WAL event lacks from the source (shared by every
// channel reader).
type Resolver struct {
	catalog    *Catalog
	log        *service.Logger
	sourceAddr string // for log lines
}

// NewResolver resolves through catalog; sourceAddr names the source in logs.
func NewResolver(catalog *Catalog, log *service.Logger, sourceAddr string) *Resolver {
	return &Resolver{catalog: catalog, log: log, sourceAddr: sourceAddr}
}

// Resolve fills in database and collection names and, for a new collection,
// its consistency level and properties. It retries while the source Milvus is
// unreachable; the only error it returns is the context's.
func (r *Resolver) Resolve(ctx context.Context, ev *wal.Event) error {
	if ev.CollectionID == 0 {
		return r.identify(ctx, ev)
	}
	bo := backoff.New()
	for {
		ref, found, gone, err := r.catalog.Resolve(ctx, ev.CollectionID, ev.Ts, ev.Op == contract.OpCreateCollection)
		if err == nil {
			if found {
				ev.DbName, ev.CollectionName, ev.SourceGone = ref.DB, ref.Name, gone
				if ev.Op == contract.OpCreateCollection && !gone {
					r.describe(ctx, ev)
				}
			} else {
				if ref.Name != "" {
					ev.CollectionName = ref.Name
				}
				r.fallbackNames(ev)
			}
			return nil
		}
		r.log.Warnf("Cannot ask the source Milvus at %s for the name of collection %d, retrying with backoff: %v", r.sourceAddr, ev.CollectionID, err)
		if !bo.Wait(ctx) {
			return ctx.Err()
		}
	}
}

// describe adds what a create_collection message lacks (consistency level,
// properties) from the source. Best effort: without it the output falls back
// to Milvus's defaults, so a failure is logged, not retried forever.
func (r *Resolver) describe(ctx context.Context, ev *wal.Event) {
	d, err := r.catalog.lister.DescribeID(ctx, ev.CollectionID, 0)
	if err != nil {
		r.log.Warnf("Cannot describe collection %s.%s on the source Milvus at %s (its consistency level falls back to the default): %v", ev.DbName, ev.CollectionName, r.sourceAddr, err)
		return
	}
	if d.Found {
		ev.ConsistencyLevel, ev.Properties = d.Level, d.Props
	}
}

// identify gives a request of the replicate channel (index, load, release:
// the client's request, with names but no collection ID) the ID of the
// collection its name stood for at the request's timestamp, so that the
// output finds the copy even after a rename. A name can stand for several
// collections over time (dropped and created again, or freed by a rename):
// each ID it was seen with, and the one the source gives it now (the name
// may be an alias), is asked for, newest first, until one existed at that
// timestamp. None did: the request keeps no ID and the output goes by name.
func (r *Resolver) identify(ctx context.Context, ev *wal.Event) error {
	switch ev.Op {
	case contract.OpCreateIndex, contract.OpDropIndex, contract.OpLoadCollection, contract.OpReleaseCollection:
	default:
		return nil
	}
	ref := contract.CollectionRef{DB: ev.DbName, Name: ev.CollectionName}
	bo := backoff.New()
	for {
		id, name, err := r.idAt(ctx, ref, ev.Ts)
		if err == nil {
			if id != 0 {
				ev.CollectionID, ev.CollectionName = id, name
			}
			return nil
		}
		r.log.Warnf("Cannot ask the source Milvus at %s which collection %s.%s was, retrying with backoff: %v", r.sourceAddr, ref.DB, ref.Name, err)
		if !bo.Wait(ctx) {
			return ctx.Err()
		}
	}
}

// idAt returns the ID and name of the collection ref stood for at hybrid
// timestamp ts; 0 when none is known.
func (r *Resolver) idAt(ctx context.Context, ref contract.CollectionRef, ts uint64) (int64, string, error) {
	nowID, now, err := r.catalog.lister.DescribeName(ctx, ref.DB, ref.Name)
	if err != nil {
		return 0, "", err
	}
	var current []int64
	if now.Found {
		current = append(current, nowID)
	}
	for _, id := range r.catalog.IDsNamed(ref, current...) {
		then, err := r.catalog.lister.DescribeAt(ctx, ref.DB, id, ts)
		if err != nil {
			return 0, "", err
		}
		if !then.Found {
			continue
		}
		if now.Found && id == nowID {
			return id, now.Name, nil // an alias stands for its collection's name
		}
		return id, ref.Name, nil
	}
	return 0, "", nil
}

// fallbackNames names a collection the source no longer knows (dropped before
// this reader learned its name) from the message itself.
func (r *Resolver) fallbackNames(ev *wal.Event) {
	ev.SourceGone = true
	if ev.Op == contract.OpCreateCollection && ev.CollectionName == "" {
		var req msgpb.CreateCollectionRequest
		var schema schemapb.CollectionSchema
		if proto.Unmarshal(ev.Payload, &req) == nil && proto.Unmarshal(req.GetSchema(), &schema) == nil {
			ev.CollectionName = schema.GetName()
		}
	}
	if ev.DbName == "" {
		ev.DbName = contract.DefaultDatabase
	}
	if r.catalog.FirstWarning(ev.CollectionID) {
		r.log.Infof("Collection %d (%q) is unknown to the source Milvus (dropped); its database is assumed to be %q", ev.CollectionID, ev.CollectionName, ev.DbName)
	}
}
