package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Kinds of Diff.
const (
	KindDatabase   = "database"
	KindCollection = "collection"
	KindSchema     = "schema"
	KindPartition  = "partition"
	KindAlias      = "alias"
	KindIndex      = "index"
	KindLoadState  = "load_state"
	KindRowCount   = "row_count"
	KindMissingRow = "missing_row" // on the source, not on the target
	KindExtraRow   = "extra_row"   // on the target, not on the source
	KindFieldValue = "field_value"
)

// Diff is one difference between source and target. DB is the source
// database name; Collection is empty for a database difference.
type Diff struct {
	DB         string `json:"db"`
	Collection string `json:"collection,omitempty"`
	Kind       string `json:"kind"`
	Detail     string `json:"detail"`
}

// Note is something the run could not check, or a fact worth knowing; it is
// not a difference.
type Note struct {
	DB         string `json:"db"`
	Collection string `json:"collection,omitempty"`
	Detail     string `json:"detail"`
}

// CollectionSummary is the outcome for one collection present on both sides.
type CollectionSummary struct {
	DB           string `json:"db"`
	TargetDB     string `json:"target_db"`
	Collection   string `json:"collection"`
	SourceRows   int64  `json:"source_rows"` // -1: not counted
	TargetRows   int64  `json:"target_rows"` // -1: not counted
	RowsCompared int64  `json:"rows_compared"`
	RowsChecked  bool   `json:"rows_checked"` // false: rows were skipped, see Notes
	Diffs        int    `json:"diffs"`        // all differences, listed or not
}

// Report is the result of Run. Diffs lists at most Options.MaxDiffs row and
// field differences per collection; DiffCount counts every difference.
type Report struct {
	Source              string              `json:"source"`
	Target              string              `json:"target"`
	DatabasesCompared   int                 `json:"databases_compared"`
	CollectionsCompared int                 `json:"collections_compared"`
	RowsCompared        int64               `json:"rows_compared"`
	DiffCount           int                 `json:"diff_count"`
	Diffs               []Diff              `json:"diffs"`
	Notes               []Note              `json:"notes"`
	Collections         []CollectionSummary `json:"collections"`
	Duration            time.Duration       `json:"duration_ns"`
}

// OK reports whether no difference was found.
func (r *Report) OK() bool { return r.DiffCount == 0 }

// addDiff records a difference that is always listed (database and metadata
// differences are few).
func (r *Report) addDiff(db, coll, kind, format string, args ...any) {
	r.DiffCount++
	r.Diffs = append(r.Diffs, Diff{DB: db, Collection: coll, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) addNote(db, coll, format string, args ...any) {
	r.Notes = append(r.Notes, Note{DB: db, Collection: coll, Detail: fmt.Sprintf(format, args...)})
}

// collDiffs records the differences of one collection: metadata differences
// are always listed, row and field differences up to max (max < 0: all).
type collDiffs struct {
	rep      *Report
	db, coll string
	max      int
	metaN    int // metadata differences (all listed)
	listed   int // row and field differences listed
	total    int // every difference of the collection
}

func (c *collDiffs) meta(kind, format string, args ...any) {
	c.total++
	c.metaN++
	c.rep.addDiff(c.db, c.coll, kind, format, args...)
}

func (c *collDiffs) row(kind, format string, args ...any) {
	c.total++
	c.rep.DiffCount++
	if c.max >= 0 && c.listed >= c.max {
		return
	}
	c.listed++
	c.rep.Diffs = append(c.rep.Diffs, Diff{DB: c.db, Collection: c.coll, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// note is addNote for this collection.
func (c *collDiffs) note(format string, args ...any) { c.rep.addNote(c.db, c.coll, format, args...) }

// WriteText writes the report for people: counters, one line per collection,
// notes, differences, and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "verify: source %s, target %s\n", r.Source, r.Target)
	for _, c := range r.Collections {
		name := c.DB + "." + c.Collection
		if c.TargetDB != c.DB {
			name += " (target " + c.TargetDB + "." + c.Collection + ")"
		}
		rows := "rows not compared"
		if c.RowsChecked {
			rows = fmt.Sprintf("%d rows compared", c.RowsCompared)
		}
		fmt.Fprintf(&b, "collection %s: source %s rows, target %s rows, %s, %d difference(s)\n",
			name, rowCount(c.SourceRows), rowCount(c.TargetRows), rows, c.Diffs)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note %s: %s\n", where(n.DB, n.Collection), n.Detail)
	}
	for _, d := range r.Diffs {
		fmt.Fprintf(&b, "DIFF %-11s %s: %s\n", d.Kind, where(d.DB, d.Collection), d.Detail)
	}
	fmt.Fprintf(&b, "compared %d database(s), %d collection(s), %d row(s) in %s\n",
		r.DatabasesCompared, r.CollectionsCompared, r.RowsCompared, r.Duration.Round(time.Millisecond))
	if r.OK() {
		b.WriteString("OK: no differences\n")
	} else {
		fmt.Fprintf(&b, "FAILED: %d difference(s), %d listed\n", r.DiffCount, len(r.Diffs))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one indented JSON object, with "ok" added.
func (r *Report) WriteJSON(w io.Writer) error {
	type withOK struct {
		OK bool `json:"ok"`
		*Report
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(withOK{OK: r.OK(), Report: r})
}

// rowCount renders a row count; -1 is unknown.
func rowCount(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func where(db, coll string) string {
	if coll == "" {
		return db
	}
	return db + "." + coll
}
