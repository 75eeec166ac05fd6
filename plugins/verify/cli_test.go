package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	cfg, err := parseArgs([]string{
		"--source", "127.0.0.1:19530", "--target=127.0.0.1:19540",
		"--source-token", "root:Milvus", "--target-token", "key",
		"--databases", "db1, db2", "--databases", "db3",
		"--collections", "db1.c*,orders", "--database-mapping", "db1=dst1,db2=dst2",
		"--max-diffs", "5", "--json", "-quiet", "--load-timeout", "10s",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.opts
	if o.SourceAddr != "127.0.0.1:19530" || o.TargetAddr != "127.0.0.1:19540" ||
		o.SourceToken != "root:Milvus" || o.TargetToken != "key" || o.MaxDiffs != 5 ||
		o.LoadTimeout != 10*time.Second || !cfg.json || !cfg.quiet {
		t.Errorf("options = %+v, cfg = %+v", o, cfg)
	}
	if !reflect.DeepEqual(o.Databases, []string{"db1", "db2", "db3"}) {
		t.Errorf("databases = %v", o.Databases)
	}
	if !reflect.DeepEqual(o.Collections, []string{"db1.c*", "orders"}) {
		t.Errorf("collections = %v", o.Collections)
	}
	if !reflect.DeepEqual(o.DatabaseMapping, map[string]string{"db1": "dst1", "db2": "dst2"}) {
		t.Errorf("mapping = %v", o.DatabaseMapping)
	}

	cfg, err = parseArgs([]string{"--source", "a:1", "--target", "b:2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.opts.MaxDiffs != DefaultMaxDiffs || cfg.json || cfg.opts.DatabaseMapping != nil || cfg.opts.Databases != nil {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--source", "a:1"},
		{"--target", "b:2"},
		{"--source", "a:1", "--target", "b:2", "extra"},
		{"--source", "a:1", "--target", "b:2", "--database-mapping", "x"},
		{"--source", "a:1", "--target", "b:2", "--database-mapping", "x=y,x=z"},
		{"--source", "a:1", "--target", "b:2", "--database-mapping", "=y"},
		{"--source", "a:1", "--target", "b:2", "--collections", "a.b.c"},
		{"--source", "a:1", "--target", "b:2", "--databases", "[x"},
		{"--source", "a:1", "--target", "b:2", "--max-diffs", "0"},
		{"--source", "a:1", "--target", "b:2", "--keys-per-query", "1"},
		{"--source", "a:1", "--target", "b:2", "--no-such-flag"},
	} {
		if _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("parseArgs(%q): no error", args)
		}
	}
	if _, err := parseArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestMainExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"--source", "x"}, &out, &errOut); code != ExitError {
		t.Errorf("bad flags: exit %d", code)
	}
	if !strings.Contains(errOut.String(), "target address is required") {
		t.Errorf("bad flags message: %q", errOut.String())
	}
	if code := Main(context.Background(), []string{"-h"}, &out, io.Discard); code != ExitOK {
		t.Errorf("-h: exit %d", code)
	}
	// Nothing listens on port 1: an error (2), not a difference (1).
	errOut.Reset()
	code := Main(context.Background(), []string{
		"--source", "127.0.0.1:1", "--target", "127.0.0.1:1", "--connect-timeout", "1s", "--quiet",
	}, &out, &errOut)
	if code != ExitError || !strings.Contains(errOut.String(), "source Milvus at 127.0.0.1:1") {
		t.Errorf("unreachable: exit %d, stderr %q", code, errOut.String())
	}
}

func TestReportCapAndOutput(t *testing.T) {
	rep := &Report{Source: "s:1", Target: "t:2", Diffs: []Diff{}, Notes: []Note{}}
	cd := &collDiffs{rep: rep, db: "db", coll: "c", max: 2}
	cd.meta(KindSchema, "description: source %q, target %q", "a", "b")
	for i := 0; i < 5; i++ {
		cd.row(KindMissingRow, "pk %d is missing on the target", i)
	}
	cd.meta(KindRowCount, "row count: source 5, target 0")
	if cd.total != 7 || cd.listed != 2 || cd.metaN != 2 || rep.DiffCount != 7 || len(rep.Diffs) != 4 || rep.OK() {
		t.Fatalf("total %d listed %d meta %d count %d diffs %d", cd.total, cd.listed, cd.metaN, rep.DiffCount, len(rep.Diffs))
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DIFF schema", "db.c: pk 1 is missing", "FAILED: 7 difference(s), 4 listed"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		OK        bool   `json:"ok"`
		DiffCount int    `json:"diff_count"`
		Diffs     []Diff `json:"diffs"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.OK || back.DiffCount != 7 || len(back.Diffs) != 4 {
		t.Errorf("json report: %v %+v\n%s", err, back, js.String())
	}

	unlimited := &Report{}
	cd = &collDiffs{rep: unlimited, max: -1}
	for i := 0; i < 50; i++ {
		cd.row(KindFieldValue, "x")
	}
	if len(unlimited.Diffs) != 50 {
		t.Errorf("max -1 listed %d of 50", len(unlimited.Diffs))
	}
	if ok := (&Report{}).OK(); !ok {
		t.Errorf("empty report not OK")
	}
}
