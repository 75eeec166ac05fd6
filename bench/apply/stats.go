package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// summary of a set of durations; percentiles by nearest rank.
type summary struct {
	n             int
	p50, p99, max time.Duration
}

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return summary{n: len(s), p50: percentile(s, 0.50), p99: percentile(s, 0.99), max: s[len(s)-1]}
}

// percentile of sorted s: the smallest value with at least p of the samples
// at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// sentLags are the lags of the target's own writes counted from the call:
// what a zero-cost pipeline, writing the moment the source returned, shows.
func sentLags(samples []sample) []time.Duration {
	out := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		out = append(out, s.visible.Sub(s.sent))
	}
	return out
}

func lags(samples []sample) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s.lag()
	}
	return out
}

func lowLags(samples []sample) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s.lagLow()
	}
	return out
}

// queryTimes are the round trips of the queries that first showed each sample.
func queryTimes(samples []sample) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s.visible.Sub(s.asked)
	}
	return out
}

// secs formats a duration as seconds with millisecond precision.
func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// String: "p50 0.123 / p99 0.456 / max 0.789 s (n=100)".
func (s summary) String() string {
	if s.n == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s / p99 %s / max %s s (n=%d)", secs(s.p50), secs(s.p99), secs(s.max), s.n)
}
