# shellcheck shell=bash disable=SC2034 # the variables are used by the other files
# Defaults of every setting of the local test stack; each one can be overridden from the environment.
# The list with explanations is at the top of tests/stack/stack.sh. Sourced by stack.sh only.

# --- places -------------------------------------------------------------------------------------------
: "${STACK_DIR:=$REPO_ROOT/.stack}"               # everything the stack downloads, writes or runs
STACK_DIR=$(realpath -m -- "$STACK_DIR")
: "${STACK_DATA_DIR:=$STACK_DIR/data}"            # data of the running parts (deleted by `down --wipe`)
: "${STACK_LOG_DIR:=$STACK_DIR/logs}"
: "${STACK_RUN_DIR:=$STACK_DIR/run}"              # pid files
STACK_DATA_DIR=$(realpath -m -- "$STACK_DATA_DIR")
STACK_LOG_DIR=$(realpath -m -- "$STACK_LOG_DIR")
STACK_RUN_DIR=$(realpath -m -- "$STACK_RUN_DIR")
STACK_CACHE_DIR="$STACK_DIR/cache"                # downloaded archives (kept by `down --wipe`)
STACK_TOOLS_DIR="$STACK_DIR/tools"                # Maven
STACK_M2_DIR="$STACK_DIR/m2"                      # Maven's local repository

# --- versions -----------------------------------------------------------------------------------------
: "${MAVEN_VERSION:=3.9.9}"
: "${PULSAR_VERSION:=3.0.7}"
: "${MILVUS_VERSION:=2.3.5}"
: "${MAVEN_DEPENDENCY_PLUGIN:=org.apache.maven.plugins:maven-dependency-plugin:3.8.1}"

# --- addresses and ports ------------------------------------------------------------------------------
: "${STACK_HOST:=127.0.0.1}"                      # every part binds to / is reached on this address
: "${ETCD_PORT:=2379}"
: "${ETCD_PEER_PORT:=2380}"
: "${REDIS_PORT:=6379}"
: "${PULSAR_PORT:=6650}"                          # broker (binary protocol)
: "${PULSAR_WEB_PORT:=8080}"                      # admin REST API
: "${PULSAR_BOOKIE_PORT:=3181}"                   # the standalone's embedded bookie
: "${PULSAR_ZK_PORT:=2181}"                       # only used by a data dir made by ZooKeeper-mode Pulsar

# Milvus: <INSTANCE>_MILVUS_<COMPONENT>_PORT, INSTANCE = SOURCE or TARGET.
: "${SOURCE_MILVUS_PORT:=19530}"                  # proxy (gRPC + REST), what clients dial
: "${SOURCE_MILVUS_METRICS_PORT:=9091}"           # /healthz, /metrics
: "${SOURCE_MILVUS_INTERNAL_PORT:=19529}"
: "${SOURCE_MILVUS_ROOTCOORD_PORT:=53100}"
: "${SOURCE_MILVUS_QUERYCOORD_PORT:=19531}"
: "${SOURCE_MILVUS_QUERYNODE_PORT:=21123}"
: "${SOURCE_MILVUS_INDEXCOORD_PORT:=22930}"
: "${SOURCE_MILVUS_INDEXNODE_PORT:=21121}"
: "${SOURCE_MILVUS_DATACOORD_PORT:=13333}"
: "${SOURCE_MILVUS_DATANODE_PORT:=21124}"
: "${SOURCE_MILVUS_ETCD_ROOT:=source}"            # etcd.rootPath

: "${TARGET_MILVUS_PORT:=19540}"
: "${TARGET_MILVUS_METRICS_PORT:=9092}"
: "${TARGET_MILVUS_INTERNAL_PORT:=19539}"
: "${TARGET_MILVUS_ROOTCOORD_PORT:=53200}"
: "${TARGET_MILVUS_QUERYCOORD_PORT:=19541}"
: "${TARGET_MILVUS_QUERYNODE_PORT:=21223}"
: "${TARGET_MILVUS_INDEXCOORD_PORT:=22940}"
: "${TARGET_MILVUS_INDEXNODE_PORT:=21221}"
: "${TARGET_MILVUS_DATACOORD_PORT:=13433}"
: "${TARGET_MILVUS_DATANODE_PORT:=21224}"
: "${TARGET_MILVUS_ETCD_ROOT:=target}"

# --- behaviour ----------------------------------------------------------------------------------------
: "${PULSAR_RETENTION_MINUTES:=10080}"            # retention policy set on public/default by `up`
: "${PULSAR_RETENTION_MB:=20480}"
: "${PULSAR_JAVA_MEM:=-Xms512m -Xmx1g -XX:MaxDirectMemorySize=1g}"
# Milvus' common.gracefulStopTimeout. The wheel's template says 1800 s, and its query node falls back to
# it: in standalone mode nothing takes its segments over, so it waits all of it after SIGTERM.
: "${MILVUS_GRACEFUL_STOP_TIMEOUT:=5}"
: "${STACK_START_TIMEOUT:=240}"                   # seconds a part may take to become healthy
: "${STACK_STOP_TIMEOUT:=30}"                     # seconds a part may take to exit after SIGTERM

PARTS=(etcd redis pulsar source target)           # start order; `down` stops in reverse
