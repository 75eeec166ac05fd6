package contract

import "strings"

// The Redis key layout shared by the control plane and the task streams. The
// control plane prefixes every key with its store prefix; a stream's `redis`
// cache resource carries the same prefix, so a stream names the keys below
// without it.
//
//	tasks                 set of task ids                        (control plane)
//	task:<id>             the task as JSON, without secrets      (control plane)
//	secret:<id>           the target's credentials               (control plane → stream)
//	source_credentials    the source's credentials               (control plane → streams)
//	ckpt:<id>             the stream's checkpoint (Checkpoint)   (stream → control plane)
//	failed:<id>           why the stream stopped for good        (stream → control plane)
//	store_id              the store's identity (in every stream's input label)
//	leader                which control plane reconciles now
//	lease:<id>            the task's writer lease, and lease:<id>:epoch its epoch counter (package lease)
//	lease:<id>:run        the run the control plane started last (RunKey): only a stream of that run may
//	                      hold the lease or write the task's checkpoint and status; none while paused
const (
	KeyTasks             = "tasks"
	KeySourceCredentials = "source_credentials"
	// KeyStoreID holds the store's identity, written once by the first
	// control plane; every stream it starts carries it (StreamLabel).
	KeyStoreID = "store_id"
	// KeyLeader names the control plane that reconciles (a short lease).
	KeyLeader = "leader"
)

// StreamLabel is the input label of the streams started for the store with
// identity storeID: a control plane removes only streams that carry its own.
func StreamLabel(storeID string) string { return "milvus_cdc_store_" + storeID }

// RunLabel is the input label of a stream of run `run` started for the store
// with identity storeID: StreamLabel, then the run.
func RunLabel(storeID, run string) string { return StreamLabel(storeID) + "_run_" + run }

// ParseRunLabel splits a stream's input label into the store identity's
// label (StreamLabel) and the run; run is "" for a label without one.
func ParseRunLabel(label string) (storeLabel, run string) {
	if i := strings.LastIndex(label, "_run_"); i >= 0 {
		return label[:i], label[i+len("_run_"):]
	}
	return label, ""
}

// TaskKey is the key of a task's JSON.
func TaskKey(id string) string { return "task:" + id }

// SecretKey is the key of a task's target credentials.
func SecretKey(id string) string { return "secret:" + id }

// CheckpointKey is the key of a task stream's checkpoint.
func CheckpointKey(id string) string { return "ckpt:" + id }

// FailureKey is the key under which a task stream reports a permanent failure.
func FailureKey(id string) string { return "failed:" + id }

// LeaseKey is the key of a task's writer lease (one writer per task).
func LeaseKey(id string) string { return "lease:" + id }

// RunKey is the key naming the task's current run (see the layout above).
func RunKey(id string) string { return LeaseKey(id) + ":run" }

// InputStatusKey is the key under which a task stream's input reports its
// progress (InputStatus).
func InputStatusKey(id string) string { return "status_in:" + id }

// OutputStatusKey is the key under which a task stream's output reports what
// it applied (OutputStatus).
func OutputStatusKey(id string) string { return "status_out:" + id }

// TaskKeys are every key a task owns besides the task set's entry.
func TaskKeys(id string) []string {
	return []string{TaskKey(id), SecretKey(id), CheckpointKey(id), FailureKey(id), LeaseKey(id), LeaseKey(id) + ":epoch", RunKey(id),
		InputStatusKey(id), OutputStatusKey(id)}
}
