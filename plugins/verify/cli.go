package verify

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes of `milvus-cdc verify`.
const (
	ExitOK    = 0 // no differences
	ExitDiffs = 1 // differences found
	ExitError = 2 // bad flags, or a Milvus could not be reached
)

const usageText = `Usage: milvus-cdc verify --source ADDR --target ADDR [flags]

Compares a source Milvus with a target Milvus: databases, collections, schemas
and properties, aliases, partitions, indexes, load state, row counts and, one
partition at a time, primary key sets and every field value (vectors bit for
bit, JSON by value). Prints the differences.
Exit status: 0 no differences, 1 differences, 2 error (bad flags, unreachable).

Flags:
`

// listFlag is a comma-separated list; the flag may also be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// mappingFlag is src=dst pairs, comma-separated or repeated.
type mappingFlag map[string]string

func (m mappingFlag) String() string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func (m mappingFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		src, dst, ok := strings.Cut(part, "=")
		src, dst = strings.TrimSpace(src), strings.TrimSpace(dst)
		if !ok || src == "" || dst == "" {
			return fmt.Errorf("%q: want src=dst", part)
		}
		if old, dup := m[src]; dup && old != dst {
			return fmt.Errorf("database %q mapped twice (%q and %q)", src, old, dst)
		}
		m[src] = dst
	}
	return nil
}

// cliConfig is what the command line asks for.
type cliConfig struct {
	opts  Options
	json  bool
	quiet bool
}

// parseArgs reads the flags after `verify`. flag.ErrHelp means -h was given.
func parseArgs(args []string, usageOut io.Writer) (cliConfig, error) {
	var cfg cliConfig
	var dbs, colls listFlag
	mapping := mappingFlag{}
	fs := flag.NewFlagSet("milvus-cdc verify", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.Usage = func() {
		fmt.Fprint(usageOut, usageText)
		fs.PrintDefaults()
	}
	o := &cfg.opts
	fs.StringVar(&o.SourceAddr, "source", "", "source Milvus `address` (host:port), required")
	fs.StringVar(&o.TargetAddr, "target", "", "target Milvus `address` (host:port), required")
	fs.StringVar(&o.SourceToken, "source-token", "", "source `token`: user:password or an API key")
	fs.StringVar(&o.TargetToken, "target-token", "", "target `token`: user:password or an API key")
	fs.Var(&dbs, "databases", "source `databases` to compare, comma-separated globs (default all)")
	fs.Var(&colls, "collections", "`db.coll` globs to compare, comma-separated; a name without a dot = that collection in any database (default all)")
	fs.Var(mapping, "database-mapping", "`src=dst,...`: source database src is named dst on the target")
	fs.IntVar(&o.MaxDiffs, "max-diffs", DefaultMaxDiffs, "row/field differences listed per collection (all are counted); -1 = all")
	fs.IntVar(&o.KeysPerQuery, "keys-per-query", DefaultKeysPerQuery, "most primary keys fetched by one query; larger ranges are split")
	fs.IntVar(&o.RowsPerFetch, "rows-per-fetch", DefaultRowsPerFetch, "rows fetched per query for the value comparison")
	fs.DurationVar(&o.LoadTimeout, "load-timeout", DefaultLoadTimeout, "wait for Loading to settle, and for a temporary load")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", DefaultConnectTimeout, "timeout of each connection")
	fs.BoolVar(&cfg.json, "json", false, "print the report as JSON")
	fs.BoolVar(&cfg.quiet, "quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.Databases, o.Collections = dbs, colls
	if len(mapping) > 0 {
		o.DatabaseMapping = mapping
	}
	if o.MaxDiffs == 0 {
		return cfg, errors.New("--max-diffs must be at least 1, or -1 for all")
	}
	if o.KeysPerQuery < 2 || o.RowsPerFetch < 1 || o.LoadTimeout <= 0 || o.ConnectTimeout <= 0 {
		return cfg, errors.New("--keys-per-query must be >= 2, --rows-per-fetch >= 1, and the timeouts positive")
	}
	if _, err := o.withDefaults(); err != nil {
		return cfg, err
	}
	if _, err := newFilter(o.Databases, o.Collections); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Main runs `milvus-cdc verify` with the arguments after "verify" and
// returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "milvus-cdc verify: %v (see milvus-cdc verify -h)\n", err)
		return ExitError
	}
	if !cfg.quiet {
		cfg.opts.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	rep, err := Run(ctx, cfg.opts)
	if err != nil {
		fmt.Fprintf(stderr, "milvus-cdc verify: %v\n", err)
		return ExitError
	}
	if cfg.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "milvus-cdc verify: write the report: %v\n", err)
		return ExitError
	}
	if !rep.OK() {
		return ExitDiffs
	}
	return ExitOK
}
