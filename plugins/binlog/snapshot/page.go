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

// Next reads the next page; an empty page (Rows 0) ends the partition. The
// pager moves past the page at once: the caller keeps After (the page's
// Last) only once the page is acknowledged.
func (p *Pager) Next(ctx context.Context) (Page, error) {
	expr, err := afterExpr(p.PK, p.After)
	if err != nil {
		return Page{}, err
	}
	cols, err := p.Src.QueryPage(ctx, p.DB, p.Coll, p.Partition, expr, p.Fields, p.Limit, p.Guarantee)
	if err != nil {
		return Page{}, fmt.Errorf("read %s.%s partition %q after key %s: %w", p.DB, p.Coll, p.Partition, p.After, err)
	}
	last, n, err := maxKey(cols, p.PK.GetName())
	if err != nil {
		return Page{}, fmt.Errorf("read %s.%s: %w", p.DB, p.Coll, err)
	}
	if n == 0 {
		p.exhausted = true
		return Page{}, nil
	}
	p.After = last
	return Page{Fields: cols, Rows: n, Last: last}, nil
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
