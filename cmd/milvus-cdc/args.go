package main

import "strings"

// hoistConfigFlag lets `milvus-cdc run -c x.yaml` work: Benthos reads -c as a
// global flag, placed before the sub command, and `run` alone rejects it.
func hoistConfigFlag(args []string) []string {
	if len(args) < 3 || args[1] != "run" {
		return args
	}
	var hoisted, rest []string
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "-c" || a == "--config" || a == "-config") && i+1 < len(args):
			hoisted = append(hoisted, a, args[i+1])
			i++
		case strings.HasPrefix(a, "-c=") || strings.HasPrefix(a, "--config="):
			hoisted = append(hoisted, a)
		default:
			rest = append(rest, a)
		}
	}
	out := append([]string{args[0]}, hoisted...)
	out = append(out, "run")
	return append(out, rest...)
}

// isVerify reports whether the command line is `milvus-cdc verify ...`.
func isVerify(args []string) bool {
	return len(args) > 1 && args[1] == "verify"
}
