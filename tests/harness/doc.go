// Package harness is what the stack test packages (tests/e2e, tests/fault)
// share: the stack's addresses, the milvus-cdc binary built once per test
// binary, processes stopped by PID, a control plane with its workers, /cdc
// calls, polling, and taking parts of the stack away (stack.sh stop/start).
package harness
