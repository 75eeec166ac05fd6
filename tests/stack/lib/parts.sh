# shellcheck shell=bash
# The five parts of the stack: how each starts, which ports it takes, how its health is checked.
# Parts: etcd redis pulsar source target (source/target = the two Milvus). Sourced by stack.sh only.

part_name() {
  case $1 in
    source | target) printf '%s-milvus\n' "$1" ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# milvus_var INSTANCE NAME -> value of ${INSTANCE}_MILVUS_${NAME}, e.g. milvus_var source PORT
milvus_var() {
  local v="${1^^}_MILVUS_$2"
  printf '%s' "${!v}"
}

MILVUS_COMPONENT_PORTS=(PORT METRICS_PORT INTERNAL_PORT ROOTCOORD_PORT QUERYCOORD_PORT QUERYNODE_PORT
  INDEXCOORD_PORT INDEXNODE_PORT DATACOORD_PORT DATANODE_PORT)

part_ports() {
  local c
  case $1 in
    etcd) echo "$ETCD_PORT $ETCD_PEER_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    pulsar) echo "$PULSAR_PORT $PULSAR_WEB_PORT $PULSAR_BOOKIE_PORT" ;;
    source | target) for c in "${MILVUS_COMPONENT_PORTS[@]}"; do printf '%s ' "$(milvus_var "$1" "$c")"; done; echo ;;
  esac
}

part_address() {
  case $1 in
    etcd) echo "$STACK_HOST:$ETCD_PORT" ;;
    redis) echo "$STACK_HOST:$REDIS_PORT" ;;
    pulsar) echo "$STACK_HOST:$PULSAR_PORT (admin http://$STACK_HOST:$PULSAR_WEB_PORT)" ;;
    source | target)
      echo "$STACK_HOST:$(milvus_var "$1" PORT) (metrics $STACK_HOST:$(milvus_var "$1" METRICS_PORT))" ;;
  esac
}

# --- health checks (quiet; status 0 = healthy) ---------------------------------------------------------
health_etcd() {
  local out; out=$(http_get "http://$STACK_HOST:$ETCD_PORT/health") || return 1
  [[ $out == *'"health":"true"'* ]]
}
health_redis() { [[ $(redis-cli -h "$STACK_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
health_pulsar() {
  local out; out=$(http_get "http://$STACK_HOST:$PULSAR_WEB_PORT/admin/v2/namespaces/public") || return 1
  [[ $out == *'"public/default"'* ]] && port_open "$PULSAR_PORT"
}
health_milvus() { [[ $(http_get "http://$STACK_HOST:$(milvus_var "$1" METRICS_PORT)/healthz") == OK ]]; }
health_source() { health_milvus source; }
health_target() { health_milvus target; }

health_desc() {
  case $1 in
    etcd) echo "GET http://$STACK_HOST:$ETCD_PORT/health does not say health true" ;;
    redis) echo "redis-cli -p $REDIS_PORT ping does not answer PONG" ;;
    pulsar) echo "GET http://$STACK_HOST:$PULSAR_WEB_PORT/admin/v2/namespaces/public does not list" \
      "public/default, or port $PULSAR_PORT does not accept connections" ;;
    source | target) echo "GET http://$STACK_HOST:$(milvus_var "$1" METRICS_PORT)/healthz is not OK" ;;
  esac
}

# --- starting -------------------------------------------------------------------------------------------
start_etcd() {
  local url="http://$STACK_HOST" dir; dir=$(part_dir etcd)
  spawn etcd etcd --name stack --data-dir "$dir/data" \
    --listen-client-urls "$url:$ETCD_PORT" --advertise-client-urls "$url:$ETCD_PORT" \
    --listen-peer-urls "$url:$ETCD_PEER_PORT" --initial-advertise-peer-urls "$url:$ETCD_PEER_PORT" \
    --initial-cluster "stack=$url:$ETCD_PEER_PORT" \
    --auto-compaction-mode revision --auto-compaction-retention 1000 \
    --quota-backend-bytes 4294967296 --snapshot-count 50000
}

# Persistent on purpose (the task store must survive a restart): append-only file plus RDB snapshots.
start_redis() {
  spawn redis redis-server --bind "$STACK_HOST" --port "$REDIS_PORT" --dir "$(part_dir redis)" \
    --appendonly yes --appendfsync everysec --save "3600 1 300 100 60 10000" \
    --daemonize no --protected-mode yes
}

start_pulsar() {
  local dir conf; dir=$(part_dir pulsar)
  mkdir -p -- "$dir"
  conf="$dir/standalone.conf"
  sed -e "s|@HOST@|$STACK_HOST|g" -e "s|@PULSAR_PORT@|$PULSAR_PORT|g" \
    -e "s|@PULSAR_WEB_PORT@|$PULSAR_WEB_PORT|g" \
    -e "s|@PULSAR_RETENTION_MINUTES@|$PULSAR_RETENTION_MINUTES|g" \
    -e "s|@PULSAR_RETENTION_MB@|$PULSAR_RETENTION_MB|g" \
    "$STACK_SRC/pulsar/standalone.conf" >"$conf"
  # --zookeeper-dir names a directory that is never made: the standalone then keeps its metadata in
  # RocksDB under --metadata-dir (Pulsar >= 2.11 default) and runs no ZooKeeper.
  # shellcheck disable=SC2086 # PULSAR_JAVA_MEM holds several options
  spawn pulsar java $PULSAR_JAVA_MEM \
    --add-opens java.base/jdk.internal.platform=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/sun.net=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED \
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
    -Dlog4j.configurationFile="$STACK_SRC/pulsar/log4j2.properties" \
    -Dio.netty.leakDetectionLevel=disabled \
    -cp "$STACK_DIR/pulsar/lib/*" org.apache.pulsar.PulsarStandaloneStarter \
    --config "$conf" -nfw -nss \
    --metadata-dir "$dir/metadata" --bookkeeper-dir "$dir/bk" --bookkeeper-port "$PULSAR_BOOKIE_PORT" \
    --zookeeper-dir "$dir/zk" --zookeeper-port "$PULSAR_ZK_PORT"
}

# Retention on public/default: by default Pulsar may drop acknowledged or unsubscribed messages; a CDC
# reader that was down must still find them.
set_pulsar_retention() {
  local url="http://$STACK_HOST:$PULSAR_WEB_PORT/admin/v2/namespaces/public/default/retention" out
  local body="{\"retentionTimeInMinutes\":$PULSAR_RETENTION_MINUTES,\"retentionSizeInMB\":$PULSAR_RETENTION_MB}"
  curl -fsS --max-time 15 -X POST -H 'Content-Type: application/json' -d "$body" -- "$url" >/dev/null ||
    fail_part pulsar "setting the retention policy of public/default ($url) failed"
  out=$(http_get "$url") || fail_part pulsar "reading back the retention policy ($url) failed"
  [[ $out == *"\"retentionTimeInMinutes\":$PULSAR_RETENTION_MINUTES"* ]] ||
    fail_part pulsar "retention policy not applied: $url says $out"
  say "pulsar: retention of public/default: $PULSAR_RETENTION_MINUTES min / $PULSAR_RETENTION_MB MB"
}

# Renders W/configs from the wheel's template, then starts `milvus run standalone` in W.
# The components' `ip` is STACK_HOST: they register that address in etcd and call each other on it,
# instead of the machine's first network interface (which may change, e.g. a VM restored elsewhere).
start_milvus() {
  local inst=$1 dir bin mq
  dir=$(part_dir "$inst"); bin="$STACK_DIR/milvus/bin"
  if [[ $inst == source ]]; then
    mq=(--set mq.type=pulsar --set "pulsar.address=$STACK_HOST" --set "pulsar.port=$PULSAR_PORT"
      --set "pulsar.webport=$PULSAR_WEB_PORT")
  else
    mq=(--set mq.type=rocksmq)
  fi
  python3 "$STACK_SRC/milvus/render_config.py" \
    --template "$STACK_DIR/milvus/config.yaml.template" --glog "$STACK_DIR/milvus/glog.conf" \
    --workdir "$dir" \
    --value "etcd_port=$ETCD_PORT" --value "etcd_data_dir=$dir/etcd-embed-unused" \
    --value "local_storage_dir=$dir/data" --value "rocksmq_data_dir=$dir/rocksmq" \
    --value "system_log_path=" \
    --value "proxy_port=$(milvus_var "$inst" PORT)" \
    --value "proxy_internal_port=$(milvus_var "$inst" INTERNAL_PORT)" \
    --value "root_coord_port=$(milvus_var "$inst" ROOTCOORD_PORT)" \
    --value "query_coord_port=$(milvus_var "$inst" QUERYCOORD_PORT)" \
    --value "query_node_port=$(milvus_var "$inst" QUERYNODE_PORT)" \
    --value "index_coord_port=$(milvus_var "$inst" INDEXCOORD_PORT)" \
    --value "index_node_port=$(milvus_var "$inst" INDEXNODE_PORT)" \
    --value "data_coord_port=$(milvus_var "$inst" DATACOORD_PORT)" \
    --value "data_node_port=$(milvus_var "$inst" DATANODE_PORT)" \
    --set "etcd.endpoints=$STACK_HOST:$ETCD_PORT" --set etcd.use.embed=false \
    --set "etcd.rootPath=$(milvus_var "$inst" ETCD_ROOT)" \
    --set common.storageType=local --set common.ttMsgEnabled=true \
    --set "common.gracefulStopTimeout=$MILVUS_GRACEFUL_STOP_TIMEOUT" \
    --set "rootCoord.ip=$STACK_HOST" --set "proxy.ip=$STACK_HOST" --set "queryCoord.ip=$STACK_HOST" \
    --set "queryNode.ip=$STACK_HOST" --set "indexNode.ip=$STACK_HOST" --set "dataCoord.ip=$STACK_HOST" \
    --set "dataNode.ip=$STACK_HOST" "${mq[@]}" ||
    fail_part "$inst" "rendering $dir/configs/milvus.yaml failed"
  spawn "$inst" env LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    METRICS_PORT="$(milvus_var "$inst" METRICS_PORT)" DEPLOY_MODE=STANDALONE MILVUS_RUN_DIR="$dir/run" \
    "$bin/milvus" run standalone
}
start_source() { start_milvus source; }
start_target() { start_milvus target; }

# ensure_part PART: starts PART unless its process (by pid file) is alive already.
ensure_part() {
  local part=$1 pid
  if pid=$(part_pid "$part"); then
    if "health_$part"; then
      say "$(part_name "$part") already running and healthy (pid $pid)"
    else
      say "$(part_name "$part") already running (pid $pid), not healthy yet: waiting for it"
    fi
    return 0
  fi
  # shellcheck disable=SC2046 # a list of ports
  check_ports_free "$(part_name "$part")" $(part_ports "$part")
  say "starting $(part_name "$part") on $(part_address "$part") (log: $(log_file "$part"))"
  "start_$part"
}
