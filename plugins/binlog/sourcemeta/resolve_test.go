package sourcemeta

import (
	"context"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// lifetimeLister knows when each collection lived: [from, until) in hybrid
// timestamps (until 0: alive now); all in one database.
type lifetimeLister struct {
	fakeLister
	db    string
	lives map[int64]lifetime
}

type lifetime struct {
	name        string
	from, until uint64
}

func (l *lifetimeLister) alive(id int64, ts uint64) bool {
	lv, ok := l.lives[id]
	if !ok {
		return false
	}
	if ts == 0 {
		return lv.until == 0
	}
	return lv.from <= ts && (lv.until == 0 || ts < lv.until)
}

func (l *lifetimeLister) DescribeAt(_ context.Context, _ string, id int64, ts uint64) (Description, error) {
	if !l.alive(id, ts) {
		return Description{}, nil
	}
	return Description{Found: true, Name: l.lives[id].name}, nil
}

func (l *lifetimeLister) DescribeName(_ context.Context, _, name string) (int64, Description, error) {
	for id, lv := range l.lives {
		if lv.name == name && lv.until == 0 {
			return id, Description{Found: true, Name: name}, nil
		}
	}
	return 0, Description{}, nil
}

// A name dropped and created again stands for two collections: an index or
// load request goes to the one the name stood for at the request's time, not
// to whichever the catalog lists first (the old incarnation is still in its
// listing when the drop is recent).
func TestIdentifyPicksTheIncarnationOfTheRequestTime(t *testing.T) {
	l := &lifetimeLister{db: "d", lives: map[int64]lifetime{
		10: {name: "churn", from: 100, until: 200},
		20: {name: "churn", from: 210},
		30: {name: "other", from: 50},
	}}
	cat := NewCatalog(l, nil)
	cat.Remember(map[int64]contract.CollectionRef{10: {DB: "d", Name: "churn"}, 20: {DB: "d", Name: "churn"}})
	r := NewResolver(cat, nil, "source")
	for _, c := range []struct {
		name string
		ts   uint64
		want int64
	}{
		{"churn", 150, 10}, // replayed from before the drop
		{"churn", 250, 20},
		{"churn", 205, 0}, // between drop and create: no collection, goes by name
		{"other", 250, 30},
		{"never", 250, 0},
	} {
		for _, op := range []string{contract.OpCreateIndex, contract.OpLoadCollection} {
			ev := &wal.Event{Op: op, DbName: "d", CollectionName: c.name, Ts: c.ts}
			if err := r.Resolve(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if ev.CollectionID != c.want {
				t.Errorf("%s of %s at %d: collection %d, want %d", op, c.name, c.ts, ev.CollectionID, c.want)
			}
		}
	}
}
