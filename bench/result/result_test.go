package result

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppendReadRoundTrip: rows appended in two calls come back in order,
// field for field, with At filled in and Met kept as given (nil = no goal).
func TestAppendReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	t.Setenv(EnvFile, path)
	first := []Row{
		Figure("input", "bare reader rows/s", "123456"),
		Goal("input", "ratio input/bare", "0.91", "≥ 0.8", true),
	}
	if err := Append(first...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	second := Goal("resume", "median | s", "0.612", "< 0.5 s", false)
	second.At = "2001-02-03T04:05:06Z"
	if err := Append(second); err != nil {
		t.Fatalf("second Append: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 3 || !strings.Contains(string(raw), `"goal":"< 0.5 s"`) {
		t.Errorf("file is not one plain JSON line per row:\n%s", raw)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := append(first, second)
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Bench != w.Bench || g.Measure != w.Measure || g.Value != w.Value || g.Goal != w.Goal {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
		if (g.Met == nil) != (w.Met == nil) || (g.Met != nil && *g.Met != *w.Met) {
			t.Errorf("row %d: met %v, want %v", i, deref(g.Met), deref(w.Met))
		}
		if g.At == "" {
			t.Errorf("row %d: At not filled in", i)
		}
	}
	if got[2].At != second.At {
		t.Errorf("a given At was replaced: %q", got[2].At)
	}
}

func deref(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

// TestAppendWithoutEnvIsNoOp: with $BENCH_RESULTS unset a bench only prints.
func TestAppendWithoutEnvIsNoOp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvFile, "")
	t.Chdir(dir)
	if err := Append(Figure("x", "y", "1")); err != nil {
		t.Fatalf("Append without %s: %v", EnvFile, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("Append without %s wrote %d file(s)", EnvFile, len(entries))
	}
}

// TestAppendUnwritable: a path that cannot be opened is an error naming it.
func TestAppendUnwritable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "results.jsonl")
	t.Setenv(EnvFile, path)
	err := Append(Figure("x", "y", "1"))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Append to %s: err %v, want one naming the path", path, err)
	}
}

// TestReadBadLine: a line that is not a row is reported with its number,
// after the rows before it.
func TestReadBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	content := `{"bench":"a","measure":"m","value":"1"}` + "\n\n" + "not json\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := Read(path)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Read: err %v, want one naming line 3", err)
	}
	if len(rows) != 1 || rows[0].Bench != "a" {
		t.Errorf("rows before the bad line: %+v", rows)
	}
}

// TestMarkdownCountsMissed: one line per row, a missed goal is marked and
// counted, a figure has an empty met column, and | in a cell is escaped.
func TestMarkdownCountsMissed(t *testing.T) {
	rows := []Row{
		Figure("input", "bare rows/s", "100"),
		Goal("input", "ratio", "0.9", "≥ 0.8", true),
		Goal("resume", "median", "0.7 s", "< 0.5 s", false),
		Goal("snapshot", "a|b", "300", "< 256 MiB", false),
		{Bench: "snapshot", Measure: "rss", Value: "n/a", Goal: "< 256 MiB"}, // not decidable
	}
	var buf bytes.Buffer
	err := Markdown(&buf, rows)
	if err == nil || !strings.Contains(err.Error(), "2 goal(s) missed") {
		t.Fatalf("Markdown: err %v, want 2 goal(s) missed", err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 2+len(rows) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), 2+len(rows), buf.String())
	}
	wantLines := map[int]string{
		2: "| input | bare rows/s | 100 |  |  |",
		3: "| input | ratio | 0.9 | ≥ 0.8 | met |",
		4: "| resume | median | 0.7 s | < 0.5 s | **missed** |",
		5: `| snapshot | a\|b | 300 | < 256 MiB | **missed** |`,
		6: "| snapshot | rss | n/a | < 256 MiB |  |",
	}
	for i, w := range wantLines {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
}

// TestMarkdownAllMet: no missed goal, no error.
func TestMarkdownAllMet(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{Goal("a", "m", "1", "≥ 1", true), Figure("a", "n", "2")}
	if err := Markdown(&buf, rows); err != nil {
		t.Fatalf("Markdown with every goal met: %v", err)
	}
	if strings.Contains(buf.String(), "missed") {
		t.Errorf("output marks a miss:\n%s", buf.String())
	}
}
