// Package snapshot copies what the source already holds before the stream
// starts: the catalog of every selected collection and its rows, read page
// by page in primary-key order, resumable from the last key acknowledged.
package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// Source is the part of the source's API the copy reads rows with.
type Source interface {
	QueryPage(ctx context.Context, db, coll, partition, expr string, fields []string, limit int, guarantee uint64) ([]*schemapb.FieldData, error)
}

// Pager reads one partition of one collection in primary-key order.
type Pager struct {
	Src       Source
	DB, Coll  string
	Partition string // "" = the whole collection (partition-key collections)
	PK        *schemapb.FieldSchema
	Fields    []string
	Limit     int
	Guarantee uint64
	After     json.RawMessage // the largest key copied so far (nil: none)
	exhausted bool
}

// Page is one page of rows: the columns, how many rows, and the largest key.
type Page struct {
	DB, Coll string // the collection's name when the page was read
	Fields   []*schemapb.FieldData
	Rows     int
	Last     json.RawMessage
}

// Done reports whether an empty page ended the partition.
func (p *Pager) Done() bool { return p.exhausted }

// pageCap is how many rows a page may hold in the worst case, in limits:
// when the source answered the limited key query with keys that are not the
// smallest (see Next), the range is narrowed until it holds at most this.
const pageCap = 2

// Next reads the next page; an empty page (Rows 0) ends the partition. The
// pager moves past the page at once: the caller keeps After (the page's
// Last) only once the page is acknowledged.
//
// Milvus 2.3 answers a query with a limit by taking up to limit matches
// from each segment in storage order, not key order: in a growing segment
// (rows upserted, or inserted out of key order) the answer can skip keys
// below its largest one, and paging "after the largest key" would lose
// them. So a page is made in three reads that do not rely on any order:
// the keys after the last page (limited, key only) give a bound M, a
// count(*) of the keys in (last, M] checks the range is not too large
// (else M is lowered among the keys the source gives for the narrower
// range), and every row in (last, M] is read without a limit.
func (p *Pager) Next(ctx context.Context) (Page, error) {
	if p.exhausted {
		return Page{}, nil
	}
	lower, err := afterExpr(p.PK, p.After)
	if err != nil {
		return Page{}, err
	}
	fail := func(what string, err error) (Page, error) {
		return Page{}, fmt.Errorf("%s %s.%s partition %q after key %s: %w", what, p.DB, p.Coll, p.Partition, p.After, err)
	}
	keys, err := p.keys(ctx, lower)
	if err != nil {
		return fail("read the keys of", err)
	}
	if keys.len() == 0 {
		p.exhausted = true
		return Page{}, nil
	}
	hi := keys.at(keys.len() - 1)
	for {
		n, err := p.count(ctx, p.upTo(lower, hi))
		if err != nil {
			return fail("count the rows of", err)
		}
		if n <= int64(pageCap*p.Limit) {
			break
		}
		narrower, err := p.keys(ctx, p.upTo(lower, hi))
		if err != nil {
			return fail("read the keys of", err)
		}
		if narrower.len() <= 1 {
			break
		}
		hi = narrower.at((narrower.len() - 1) / 2) // below the largest: the range shrinks
	}
	cols, err := p.Src.QueryPage(ctx, p.DB, p.Coll, p.Partition, p.upTo(lower, hi), p.Fields, 0, p.Guarantee)
	if err != nil {
		return fail("read", err)
	}
	last, n, err := maxKey(cols, p.PK.GetName())
	if err != nil {
		return Page{}, fmt.Errorf("read %s.%s: %w", p.DB, p.Coll, err)
	}
	if n == 0 {
		// The keys were there a moment ago at the same guarantee timestamp:
		// nothing to copy in the range, go on after it.
		last = hi.raw
	}
	p.After = last
	return Page{Fields: cols, Rows: n, Last: last}, nil
}

// upTo restricts filter lower to keys up to k.
func (p *Pager) upTo(lower string, k key) string {
	return fmt.Sprintf("(%s) && %s <= %s", lower, p.PK.GetName(), k.lit)
}

// keys reads up to Limit primary keys matching expr, sorted.
func (p *Pager) keys(ctx context.Context, expr string) (keyList, error) {
	cols, err := p.Src.QueryPage(ctx, p.DB, p.Coll, p.Partition, expr, []string{p.PK.GetName()}, p.Limit, p.Guarantee)
	if err != nil {
		return keyList{}, err
	}
	return keysOf(cols, p.PK.GetName())
}

// count is count(*) of the rows matching expr.
func (p *Pager) count(ctx context.Context, expr string) (int64, error) {
	cols, err := p.Src.QueryPage(ctx, p.DB, p.Coll, p.Partition, expr, []string{"count(*)"}, 0, p.Guarantee)
	if err != nil {
		return 0, err
	}
	for _, c := range cols {
		if d := c.GetScalars().GetLongData().GetData(); len(d) == 1 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("count(*) answered no count")
}

// afterExpr is the filter for the keys after `after` (every key when nil).
// Milvus parses no literal -2^63, so the first page of an Int64 key asks
// for `>= MinInt64+1 || < MinInt64+1`.
func afterExpr(pk *schemapb.FieldSchema, after json.RawMessage) (string, error) {
	name := pk.GetName()
	switch pk.GetDataType() {
	case schemapb.DataType_Int64:
		if after == nil {
			lo := strconv.FormatInt(math.MinInt64+1, 10)
			return fmt.Sprintf("%s >= %s || %s < %s", name, lo, name, lo), nil
		}
		var k int64
		if err := json.Unmarshal(after, &k); err != nil {
			return "", fmt.Errorf("stored key %s of %s is not an Int64: %w", after, name, err)
		}
		return fmt.Sprintf("%s > %d", name, k), nil
	case schemapb.DataType_VarChar:
		if after == nil {
			return fmt.Sprintf(`%s >= ""`, name), nil
		}
		var k string
		if err := json.Unmarshal(after, &k); err != nil {
			return "", fmt.Errorf("stored key %s of %s is not a string: %w", after, name, err)
		}
		return fmt.Sprintf("%s > %s", name, strconv.Quote(k)), nil
	}
	return "", fmt.Errorf("primary key %s has type %s: only Int64 and VarChar keys exist", name, pk.GetDataType())
}

// maxKey returns the largest primary key of a page (as JSON) and its rows.
func maxKey(cols []*schemapb.FieldData, pk string) (json.RawMessage, int, error) {
	for _, c := range cols {
		if c.GetFieldName() != pk {
			continue
		}
		if ints := c.GetScalars().GetLongData(); ints != nil {
			d := ints.GetData()
			if len(d) == 0 {
				return nil, 0, nil
			}
			m := d[0]
			for _, k := range d[1:] {
				m = max(m, k)
			}
			b, _ := json.Marshal(m)
			return b, len(d), nil
		}
		d := c.GetScalars().GetStringData().GetData()
		if len(d) == 0 {
			return nil, 0, nil
		}
		m := d[0]
		for _, k := range d[1:] {
			m = max(m, k)
		}
		b, _ := json.Marshal(m)
		return b, len(d), nil
	}
	if len(cols) == 0 {
		return nil, 0, nil
	}
	return nil, 0, fmt.Errorf("the page has no primary key column %q", pk)
}
