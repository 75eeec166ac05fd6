package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// key is one primary key: as a filter literal and as JSON (the progress).
type key struct {
	lit string
	raw json.RawMessage
}

// keyList is a sorted list of Int64 or VarChar primary keys.
type keyList struct {
	ints []int64
	strs []string
}

func (l keyList) len() int { return len(l.ints) + len(l.strs) }

func (l keyList) at(i int) key {
	if l.ints != nil {
		b, _ := json.Marshal(l.ints[i])
		return key{lit: strconv.FormatInt(l.ints[i], 10), raw: b}
	}
	b, _ := json.Marshal(l.strs[i])
	return key{lit: strconv.Quote(l.strs[i]), raw: b}
}

// keysOf takes the primary key column pk of a query answer, sorted.
func keysOf(cols []*schemapb.FieldData, pk string) (keyList, error) {
	for _, c := range cols {
		if c.GetFieldName() != pk {
			continue
		}
		if ints := c.GetScalars().GetLongData(); ints != nil {
			d := slices.Clone(ints.GetData())
			slices.Sort(d)
			return keyList{ints: d}, nil
		}
		d := slices.Clone(c.GetScalars().GetStringData().GetData())
		slices.Sort(d)
		return keyList{strs: d}, nil
	}
	if len(cols) == 0 {
		return keyList{}, nil
	}
	return keyList{}, fmt.Errorf("the answer has no primary key column %q", pk)
}
