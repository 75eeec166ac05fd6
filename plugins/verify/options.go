// Package verify owns the comparison of a target Milvus with its source.
package verify

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of the tuning fields of Options.
const (
	DefaultMaxDiffs       = 20
	DefaultKeysPerQuery   = 1_000_000
	DefaultRowsPerFetch   = 1000
	DefaultLoadTimeout    = 30 * time.Second
	DefaultConnectTimeout = 30 * time.Second
)

// Options says what to compare. Only the two addresses are required.
type Options struct {
	SourceAddr, TargetAddr   string // host:port (or http[s]://host:port)
	SourceToken, TargetToken string // "user:password" or an API key; empty = no auth

	// Databases restricts the run to these source databases (path.Match
	// globs); empty = every database.
	Databases []string
	// Collections restricts the run to these "db.collection" globs
	// (path.Match; a pattern without a dot matches that collection name in
	// any database); empty = every collection. Names are source names.
	Collections []string
	// DatabaseMapping maps a source database to its target database; a
	// database not listed keeps its name.
	DatabaseMapping map[string]string

	// MaxDiffs is how many row and field differences are listed per
	// collection (all are counted): 0 = DefaultMaxDiffs, < 0 = no limit.
	MaxDiffs int
	// KeysPerQuery bounds how many primary keys one query may return; a
	// larger key range is split (0 = DefaultKeysPerQuery).
	KeysPerQuery int
	// RowsPerFetch is how many rows one `pk in [...]` query fetches
	// (0 = DefaultRowsPerFetch).
	RowsPerFetch int
	// LoadTimeout bounds the wait for a collection in state Loading and for
	// a temporary load (0 = DefaultLoadTimeout).
	LoadTimeout time.Duration
	// ConnectTimeout bounds each connection attempt (0 = DefaultConnectTimeout).
	ConnectTimeout time.Duration

	// Logf receives progress lines; nil = silent.
	Logf func(format string, args ...any)
}

// withDefaults validates o and fills in the zero tuning fields.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if strings.TrimSpace(o.SourceAddr) == "" {
		errs = append(errs, errors.New("the source address is required"))
	}
	if strings.TrimSpace(o.TargetAddr) == "" {
		errs = append(errs, errors.New("the target address is required"))
	}
	for src, dst := range o.DatabaseMapping {
		if src == "" || dst == "" {
			errs = append(errs, fmt.Errorf("database mapping %q=%q: both names are required", src, dst))
		}
	}
	if o.KeysPerQuery < 0 || o.RowsPerFetch < 0 {
		errs = append(errs, errors.New("keys per query and rows per fetch must not be negative"))
	}
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	if o.MaxDiffs == 0 {
		o.MaxDiffs = DefaultMaxDiffs
	}
	if o.KeysPerQuery == 0 {
		o.KeysPerQuery = DefaultKeysPerQuery
	}
	// A split needs at least two keys per query to make progress.
	if o.KeysPerQuery < 2 {
		o.KeysPerQuery = 2
	}
	if o.RowsPerFetch == 0 {
		o.RowsPerFetch = DefaultRowsPerFetch
	}
	if o.LoadTimeout == 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o, nil
}

// targetDB is the target database of source database db.
func (o Options) targetDB(db string) string {
	if t, ok := o.DatabaseMapping[db]; ok {
		return t
	}
	return db
}
