// Package fault is the fault suite: on the real stack, under a steady load
// of inserts, upserts and deletes on the source, one fault at a time (a
// worker or the control plane killed with SIGKILL, Redis restarted, Pulsar
// stopped, the target Milvus stopped, pause/resume cycles). After each,
// `verify` must find no difference, no row lost or doubled, and the task
// Running again without help. `make fault` runs it alone and prints the
// table the README shows.
package fault
