package main

import (
	"fmt"
	"io"
)

// printReport writes the markdown table and the figures around it.
func printReport(w io.Writer, o *options, fs fillStats, bare, input measured) {
	fmt.Fprintf(w, "\nmilvus_binlog input vs. bare pulsar-client-go reader: %d rows of %d-d float vectors, %d shards, %d rows per insert\n\n",
		o.rows, o.dim, o.shards, o.batch)
	fmt.Fprintln(w, "| reader | rows | seconds | rows/s | MB/s | peak RSS MiB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	row(w, "bare pulsar reader", bare)
	row(w, "milvus_binlog input", input)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "ratio input/bare (rows/s): %.2f (goal >= %.2f)\n", ratioOf(bare, input), ratioGoal)
	fmt.Fprintf(w, "fill: %d rows into %s in %.1f s = %.0f rows/s\n",
		o.rows, fs.collection, fs.seconds, rate(int64(o.rows), fs.seconds))
	fmt.Fprintf(w, "input: first message out after %.2f s (connect, probe the 17 topics, first time ticks)\n", input.FirstSeconds)
	fmt.Fprintf(w, "MB = 10^6 bytes of message payload (decompressed): the bare reader counts every message of the %d topics "+
		"from the start to the end positions (%d messages, time ticks included); the input counts the bodies it emitted (%d messages).\n",
		len(topicNames()), bare.Messages, input.Messages)
}

func row(w io.Writer, name string, m measured) {
	rss := "n/a"
	if m.peakRSSKiB >= 0 {
		rss = fmt.Sprintf("%.1f", float64(m.peakRSSKiB)/1024)
	}
	fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %.1f | %s |\n",
		name, m.Rows, m.Seconds, rate(m.Rows, m.Seconds), rate(m.Bytes, m.Seconds)/1e6, rss)
}

func rate(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}
