# shellcheck shell=bash
# Helpers of the local test stack: messages, pid files, starting/stopping daemons, waiting for health.
# Sourced by stack.sh only.

say() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] %s\n' "$*" >&2; }
die() { warn "error: $*"; exit 1; }

log_file() { printf '%s/%s.log\n' "$STACK_LOG_DIR" "$1"; }
pid_file() { printf '%s/%s.pid\n' "$STACK_RUN_DIR" "$1"; }
# Working directory of a part; also how its process is recognised (see part_pid).
part_dir() { printf '%s/%s\n' "$STACK_DATA_DIR" "$1"; }

# Prints the last lines of a part's log and where the log is (to stderr).
show_log_tail() {
  local log; log=$(log_file "$1")
  if [[ -s $log ]]; then
    warn "---- last ${2:-20} lines of $log ----"
    tail -n "${2:-20}" -- "$log" >&2
    warn "---- end of log ($log) ----"
  else
    warn "(no log at $log)"
  fi
}

# Fails with the reason, the part's log tail and the log's path.
fail_part() {
  local part=$1; shift
  warn "error: $part failed: $*"
  show_log_tail "$part" 20
  warn "parts started before it keep running; \`tests/stack/stack.sh down\` stops them"
  exit 1
}

# Prints the PID of a part if the process named by its pid file is alive and is ours: its working
# directory is the part's data dir (a recycled PID, or a process renamed by setproctitle, can't pass).
part_pid() {
  local f pid cwd
  f=$(pid_file "$1")
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cwd=$(readlink -- "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$(part_dir "$1")" ]] || return 1
  printf '%s\n' "$pid"
}

# spawn PART COMMAND...: starts COMMAND in its own session, in the part's data dir, stdin from
# /dev/null, stdout+stderr appended to the part's log. The child writes its own PID to the pid file
# before exec'ing the server, so the pid file names the server itself (not a setsid/nohup wrapper), and
# nothing keeps the caller's stdout open (`stack.sh up | tee` ends).
spawn() {
  local part=$1; shift
  local dir pidf log i
  dir=$(part_dir "$part"); pidf=$(pid_file "$part"); log=$(log_file "$part")
  mkdir -p -- "$dir" "$STACK_LOG_DIR" "$STACK_RUN_DIR"
  rm -f -- "$pidf"
  printf '\n===== stack.sh: starting %s at %s =====\n' "$part" "$(date -Is)" >>"$log"
  (
    cd -- "$dir" || exit 1
    # The server keeps none of the caller's open files: not the stack.sh lock (take_lock), not a pipe
    # that a caller waits on.
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then { eval "exec $fd>&-"; } 2>/dev/null || true; fi
    done
    # shellcheck disable=SC2016 # $$ and $@ belong to that sh
    exec setsid nohup sh -c 'echo $$ > "$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$log" 2>&1
  ) &
  for ((i = 0; i < 100; i++)); do
    [[ -s $pidf ]] && return 0
    sleep 0.05
  done
  fail_part "$part" "it did not start (no pid file $pidf)"
}

# Is something listening on PORT of STACK_HOST?
# shellcheck disable=SC2016 # $0 and $1 belong to that bash
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$STACK_HOST" "$1" 2>/dev/null; }

# Refuses to start a part whose ports are taken by a process this script did not start.
check_ports_free() {
  local part=$1 port; shift
  for port in "$@"; do
    if port_open "$port"; then
      die "cannot start $part: port $STACK_HOST:$port is already in use by a process not started by" \
        "this script (no live pid file in $STACK_RUN_DIR). Stop it, or move $part with the port variables" \
        "listed at the top of tests/stack/stack.sh."
    fi
  done
}

http_get() { curl -fsS --max-time 3 -- "$1" 2>/dev/null; }

# wait_healthy PART...: waits until every PART is healthy; fails with the log of the first part whose
# process died or that is not healthy after STACK_START_TIMEOUT seconds.
wait_healthy() {
  local deadline=$((SECONDS + STACK_START_TIMEOUT)) part pending
  while :; do
    pending=()
    for part in "$@"; do
      part_pid "$part" >/dev/null || fail_part "$part" "its process exited while starting"
      health_"$part" || pending+=("$part")
    done
    ((${#pending[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      fail_part "${pending[0]}" "not healthy after ${STACK_START_TIMEOUT}s ($(health_desc "${pending[0]}"))"
    fi
    sleep 0.5
  done
}

# stop_parts PART...: SIGTERM to every running PART, waits up to STACK_STOP_TIMEOUT s for all, then
# SIGKILL. Only processes named by our pid files are signalled.
stop_parts() {
  local part pid deadline alive
  local -A pids=()
  for part in "$@"; do
    if pid=$(part_pid "$part"); then
      say "stopping $part (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids[$part]=$pid
    else
      rm -f -- "$(pid_file "$part")"
    fi
  done
  deadline=$((SECONDS + STACK_STOP_TIMEOUT))
  while :; do
    alive=()
    for part in "${!pids[@]}"; do
      part_pid "$part" >/dev/null && alive+=("$part")
    done
    ((${#alive[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      for part in "${alive[@]}"; do
        warn "$part (pid ${pids[$part]}) still running after ${STACK_STOP_TIMEOUT}s: SIGKILL"
        kill -KILL "${pids[$part]}" 2>/dev/null || true
      done
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  for part in "${!pids[@]}"; do
    part_pid "$part" >/dev/null && die "$part (pid ${pids[$part]}) did not exit"
    rm -f -- "$(pid_file "$part")"
  done
  return 0
}

# Serialises stack.sh commands that change things (install, up, down).
take_lock() {
  mkdir -p -- "$STACK_RUN_DIR"
  exec 9>"$STACK_RUN_DIR/stack.lock"
  flock -w 600 9 || die "another stack.sh is running (lock $STACK_RUN_DIR/stack.lock)"
}
