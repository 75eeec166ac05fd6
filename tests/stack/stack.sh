#!/usr/bin/env bash
# Local test stack of milvus-cdc-benthos: etcd, Redis, Pulsar standalone, and two Milvus 2.3.5
# ("source" on Pulsar, "target" on its own rocksmq), all run as plain processes (no Docker).
#
#   stack.sh install          install what is missing (Debian packages; Maven, Pulsar jars and Milvus
#                             into $STACK_DIR); a fast no-op when everything is there
#   stack.sh up               install, then start every part not running yet and wait until all are healthy
#   stack.sh down [--wipe]    stop what `up` started (by pid files); --wipe also deletes the data dirs
#   stack.sh stop PART...     stop single parts (SIGTERM, SIGKILL after STACK_STOP_TIMEOUT); data kept
#   stack.sh start PART...    start single stopped parts and wait until they are healthy
#                             (the fault tests use stop/start to take Redis, Pulsar or a Milvus away)
#   stack.sh status           one line per part; exit status 1 if any part is not healthy
#   stack.sh logs PART [-f]   last lines of a part's log (-f: follow); PART: etcd redis pulsar source target
#   stack.sh env              `export VAR=value` lines: eval "$(tests/stack/stack.sh env)"
#
# Environment (defaults in brackets):
#   STACK_DIR [<repo>/.stack]       downloads (cache/, m2/, tools/, pulsar/lib, milvus/bin), and by default:
#   STACK_DATA_DIR [$STACK_DIR/data]  data dirs, one per part    STACK_LOG_DIR [$STACK_DIR/logs]  logs
#   STACK_RUN_DIR [$STACK_DIR/run]    pid files
#   MAVEN_VERSION [3.9.9]  PULSAR_VERSION [3.0.7]  MILVUS_VERSION [2.3.5]
#   MAVEN_DEPENDENCY_PLUGIN [org.apache.maven.plugins:maven-dependency-plugin:3.8.1]
#   STACK_HOST [127.0.0.1]          address every part binds to
#   ETCD_PORT [2379]  ETCD_PEER_PORT [2380]  REDIS_PORT [6379]
#   PULSAR_PORT [6650]  PULSAR_WEB_PORT [8080]  PULSAR_BOOKIE_PORT [3181]  PULSAR_ZK_PORT [2181]
#   PULSAR_RETENTION_MINUTES [10080]  PULSAR_RETENTION_MB [20480]   retention set on public/default
#   PULSAR_JAVA_MEM [-Xms512m -Xmx1g -XX:MaxDirectMemorySize=1g]
#   Milvus, <I> = SOURCE or TARGET, defaults source / target:
#     <I>_MILVUS_PORT [19530/19540] (proxy, what clients dial)  <I>_MILVUS_METRICS_PORT [9091/9092]
#     <I>_MILVUS_INTERNAL_PORT [19529/19539]  <I>_MILVUS_ROOTCOORD_PORT [53100/53200]
#     <I>_MILVUS_QUERYCOORD_PORT [19531/19541]  <I>_MILVUS_QUERYNODE_PORT [21123/21223]
#     <I>_MILVUS_INDEXCOORD_PORT [22930/22940]  <I>_MILVUS_INDEXNODE_PORT [21121/21221]
#     <I>_MILVUS_DATACOORD_PORT [13333/13433]  <I>_MILVUS_DATANODE_PORT [21124/21224]
#     <I>_MILVUS_ETCD_ROOT [source/target]  (etcd.rootPath: both share the one etcd)
#   MILVUS_GRACEFUL_STOP_TIMEOUT [5]  Milvus common.gracefulStopTimeout: how long its query node waits after SIGTERM
#   STACK_START_TIMEOUT [240]  seconds a part may take to become healthy
#   STACK_STOP_TIMEOUT [30]    seconds a part may take to exit after SIGTERM before SIGKILL
#   STACK_LOG_LINES [200]      lines printed by `logs`
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

STACK_SRC=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by lib/config.sh
REPO_ROOT=$(cd -- "$STACK_SRC/../.." && pwd)
source "$STACK_SRC/lib/config.sh"
source "$STACK_SRC/lib/common.sh"
source "$STACK_SRC/lib/install.sh"
source "$STACK_SRC/lib/parts.sh"

all_healthy() {
  local part
  for part in "${PARTS[@]}"; do
    part_pid "$part" >/dev/null && "health_$part" || return 1
  done
}

cmd_up() {
  local t0=$SECONDS
  take_lock
  cmd_install
  if all_healthy; then
    say "stack already running and healthy: nothing to do"
    cmd_status || true
    return 0
  fi
  ensure_part etcd
  wait_healthy etcd
  ensure_part redis
  ensure_part pulsar
  wait_healthy redis pulsar
  set_pulsar_retention
  # the two Milvus start together: each takes ~30 s, mostly waiting
  ensure_part source
  ensure_part target
  wait_healthy source target
  cmd_status || true
  say "stack ready in $((SECONDS - t0))s"
}

cmd_down() {
  local wipe=0 part
  case ${1-} in
    "") ;;
    --wipe) wipe=1 ;;
    *) die "usage: stack.sh down [--wipe]" ;;
  esac
  take_lock
  # Milvus first, and waited for: with etcd gone a Milvus hangs in its shutdown.
  stop_parts target source
  stop_parts pulsar
  stop_parts redis
  stop_parts etcd
  if ((wipe)); then
    for part in "${PARTS[@]}"; do
      say "wiping $(part_dir "$part")"
      rm -rf -- "$(part_dir "$part")"
    done
  fi
  say "stack stopped"
}

# part_args PART...: checks the part names and sets PART_ARGS (source-milvus -> source).
part_args() {
  local part
  (($#)) || die "name at least one part: etcd redis pulsar source target"
  PART_ARGS=()
  for part in "$@"; do
    part=${part%-milvus}
    case $part in
      etcd | redis | pulsar | source | target) PART_ARGS+=("$part") ;;
      *) die "unknown part '$part': etcd redis pulsar source target" ;;
    esac
  done
}

cmd_stop() {
  part_args "$@"
  take_lock
  stop_parts "${PART_ARGS[@]}"
}

cmd_start() {
  local part
  part_args "$@"
  take_lock
  for part in "${PART_ARGS[@]}"; do ensure_part "$part"; done
  wait_healthy "${PART_ARGS[@]}"
  say "started: ${PART_ARGS[*]}"
}

cmd_status() {
  local part pid state bad=0
  for part in "${PARTS[@]}"; do
    if pid=$(part_pid "$part"); then
      if "health_$part"; then state=healthy; else state=unhealthy; bad=1; fi
    else
      pid=-; state=down; bad=1
    fi
    printf '%-14s %-9s %-52s pid %s\n' "$(part_name "$part")" "$state" "$(part_address "$part")" "$pid"
  done
  return "$bad"
}

cmd_logs() {
  local part=${1-} follow=0 log
  [[ ${2-} == -f ]] && follow=1
  case $part in
    etcd | redis | pulsar | source | target | install) ;;
    source-milvus | target-milvus) part=${part%-milvus} ;;
    *) die "usage: stack.sh logs {etcd|redis|pulsar|source|target|install} [-f]" ;;
  esac
  log=$(log_file "$part")
  [[ -f $log ]] || die "no log yet: $log"
  if ((follow)); then
    exec tail -n "${STACK_LOG_LINES:-200}" -F -- "$log"
  fi
  tail -n "${STACK_LOG_LINES:-200}" -- "$log"
}

cmd_env() {
  cat <<EOF
export MILVUS_SOURCE_ADDR=$STACK_HOST:$SOURCE_MILVUS_PORT
export MILVUS_TARGET_ADDR=$STACK_HOST:$TARGET_MILVUS_PORT
export PULSAR_URL=pulsar://$STACK_HOST:$PULSAR_PORT
export PULSAR_ADMIN_URL=http://$STACK_HOST:$PULSAR_WEB_PORT
export REDIS_ADDR=$STACK_HOST:$REDIS_PORT
export ETCD_ENDPOINT=$STACK_HOST:$ETCD_PORT
EOF
}

usage() { sed -n '2,/^# shellcheck/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

main() {
  local cmd=${1-}
  (($#)) && shift
  case $cmd in
    install) take_lock; cmd_install ;;
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    stop) cmd_stop "$@" ;;
    start) cmd_start "$@" ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
