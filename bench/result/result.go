// Package result is the one format the benchmarks share: each bench appends
// its figures as rows (JSON lines) to the file named by $BENCH_RESULTS, and
// bench/table prints every row of a `make bench` run as one markdown table.
package result

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// EnvFile names the file the benches append their rows to; unset = the
// bench only prints its own table.
const EnvFile = "BENCH_RESULTS"

// Row is one figure: what was measured, its value, the goal it is held to
// ("" = none) and whether it met it (nil = no goal, or not decidable).
type Row struct {
	Bench   string `json:"bench"`
	Measure string `json:"measure"`
	Value   string `json:"value"`
	Goal    string `json:"goal,omitempty"`
	Met     *bool  `json:"met,omitempty"`
	At      string `json:"at"`
}

// Goal returns a row held to goal, met or not.
func Goal(bench, measure, value, goal string, met bool) Row {
	return Row{Bench: bench, Measure: measure, Value: value, Goal: goal, Met: &met}
}

// Figure returns a row without a goal (context for the goals around it).
func Figure(bench, measure, value string) Row {
	return Row{Bench: bench, Measure: measure, Value: value}
}

// Append writes rows to $BENCH_RESULTS, if set, one JSON object per line.
func Append(rows ...Row) error {
	path := os.Getenv(EnvFile)
	if path == "" || len(rows) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("bench results %s: %w", path, err)
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false) // goals read "< 256 MiB" in the file too
	now := time.Now().UTC().Format(time.RFC3339)
	for _, r := range rows {
		if r.At == "" {
			r.At = now
		}
		if err := enc.Encode(r); err != nil {
			_ = f.Close()
			return fmt.Errorf("bench results %s: %w", path, err)
		}
	}
	return f.Close()
}

// Read returns every row of path, in the order they were written.
func Read(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return rows, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// Markdown prints rows as one table (bench, measure, value, goal, met) and
// returns an error naming how many goals were missed, nil if none.
func Markdown(w io.Writer, rows []Row) error {
	fmt.Fprintln(w, "| bench | measure | value | goal | met |")
	fmt.Fprintln(w, "|---|---|---:|---|---|")
	missed := 0
	for _, r := range rows {
		met := ""
		if r.Met != nil {
			met = "met"
			if !*r.Met {
				met, missed = "**missed**", missed+1
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", cell(r.Bench), cell(r.Measure), cell(r.Value), cell(r.Goal), met)
	}
	if missed > 0 {
		return errors.New(fmt.Sprint(missed, " goal(s) missed"))
	}
	return nil
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// RSS returns a peak RSS of kib KiB (-1 = not measured, which misses the
// goal) held to stay under goalMiB MiB.
func RSS(bench, measure string, kib int64, goalMiB int) Row {
	goal := fmt.Sprintf("< %d", goalMiB)
	if kib < 0 {
		return Goal(bench, measure, "n/a", goal, false)
	}
	mib := float64(kib) / 1024
	return Goal(bench, measure, fmt.Sprintf("%.1f", mib), goal, mib < float64(goalMiB))
}
