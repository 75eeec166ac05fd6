# shellcheck shell=bash
# `stack.sh install`: installs what is missing; downloads are kept in $STACK_DIR. Sourced by stack.sh only.

INSTALL_LOG_NAME=install                           # log_file install -> $STACK_LOG_DIR/install.log
APT_UPDATED=0

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# run_logged WHAT COMMAND...: runs COMMAND with its output in install.log; on failure shows its tail.
run_logged() {
  local what=$1; shift
  local log; log=$(log_file "$INSTALL_LOG_NAME")
  mkdir -p -- "$STACK_LOG_DIR"
  printf '\n===== %s: %s =====\n' "$(date -Is)" "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1 </dev/null; then
    warn "error: $what failed"
    show_log_tail "$INSTALL_LOG_NAME" 30
    exit 1
  fi
}

# apt_install PACKAGE...: installs Debian packages without letting their maintainer scripts start
# services, then makes sure the services they ship are neither running nor enabled: the stack runs
# its own etcd and Redis on the same default ports.
apt_install() {
  (($#)) || return 0
  say "installing Debian packages: $* (log: $(log_file "$INSTALL_LOG_NAME"))"
  local own_policy=0 ok=1
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # invoke-rc.d and deb-systemd-invoke ask this file; 101 = "action not allowed": nothing is started.
    printf '#!/bin/sh\n# written by tests/stack/stack.sh for the time of an apt-get install\nexit 101\n' |
      as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  if ((APT_UPDATED == 0)); then
    ( run_logged "apt-get update" as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ) || ok=0
    APT_UPDATED=1
  fi
  if ((ok)); then
    ( run_logged "apt-get install $*" as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@" ) || ok=0
  fi
  ((own_policy)) && as_root rm -f /usr/sbin/policy-rc.d
  ((ok)) || exit 1
  quiesce_debian_service redis-server
  quiesce_debian_service etcd
}

quiesce_debian_service() {
  local svc=$1
  if [[ -d /run/systemd/system ]] && systemctl cat "$svc.service" >/dev/null 2>&1; then
    as_root systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/$svc ]]; then
    as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
    if as_root service "$svc" status >/dev/null 2>&1; then
      say "stopping the Debian service $svc (the stack runs its own)"
      as_root service "$svc" stop >/dev/null 2>&1 || true
    fi
  fi
}

install_system_packages() {
  local missing=()
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # Debian's docker-compose validates docker-compose.yml in the tests (no Docker engine needed).
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  apt_install "${missing[@]}"
}

# Maven 3.9.9 (Debian's 3.8.7 spins for many minutes on pulsar-broker's dependency graph), fetched
# from the default Maven repository with Debian's mvn.
install_maven() {
  MVN="$STACK_TOOLS_DIR/apache-maven-$MAVEN_VERSION/bin/mvn"
  [[ -x $MVN ]] && return 0
  local tgz="$STACK_CACHE_DIR/apache-maven-$MAVEN_VERSION-bin.tar.gz" debian_mvn=/usr/bin/mvn
  mkdir -p -- "$STACK_CACHE_DIR" "$STACK_TOOLS_DIR"
  if [[ ! -s $tgz ]]; then
    [[ -x $debian_mvn ]] || apt_install maven
    say "fetching Maven $MAVEN_VERSION with $debian_mvn"
    # from an empty directory: a pom.xml in the caller's directory must not become the project
    mkdir -p -- "$STACK_DIR/build/maven"
    ( cd -- "$STACK_DIR/build/maven" &&
      run_logged "fetching Maven $MAVEN_VERSION" "$debian_mvn" -B -ntp \
        -s "$STACK_SRC/pulsar/settings.xml" -Dmaven.repo.local="$STACK_M2_DIR" \
        "$MAVEN_DEPENDENCY_PLUGIN:copy" \
        -Dartifact="org.apache.maven:apache-maven:$MAVEN_VERSION:tar.gz:bin" \
        -DoutputDirectory="$STACK_CACHE_DIR" )
  fi
  tar -xzf "$tgz" -C "$STACK_TOOLS_DIR"
  [[ -x $MVN ]] || die "unpacking $tgz gave no $MVN"
}

# Jars of a Pulsar standalone broker: copy-dependencies of tests/stack/pulsar/pom.xml.
install_pulsar() {
  local lib="$STACK_DIR/pulsar/lib" marker="$STACK_DIR/pulsar/lib/.stack-version"
  [[ -f $marker && $(<"$marker") == "$PULSAR_VERSION" ]] && return 0
  install_maven
  local build="$STACK_DIR/build/pulsar"
  mkdir -p -- "$build"
  cp -- "$STACK_SRC/pulsar/pom.xml" "$build/pom.xml" # Maven may write target/ beside its POM
  rm -rf -- "$lib.tmp"
  say "fetching Pulsar $PULSAR_VERSION jars with Maven $MAVEN_VERSION (~200 MiB the first time;" \
    "log: $(log_file "$INSTALL_LOG_NAME"))"
  ( cd -- "$build" &&
    run_logged "fetching the Pulsar jars" "$MVN" -B -ntp -s "$STACK_SRC/pulsar/settings.xml" \
      -Dmaven.repo.local="$STACK_M2_DIR" -Dpulsar.version="$PULSAR_VERSION" \
      "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" -DoutputDirectory="$lib.tmp" )
  compgen -G "$lib.tmp/pulsar-broker-$PULSAR_VERSION.jar" >/dev/null ||
    die "Maven finished but $lib.tmp has no pulsar-broker-$PULSAR_VERSION.jar"
  rm -rf -- "$lib"
  mv -- "$lib.tmp" "$lib"
  printf '%s\n' "$PULSAR_VERSION" >"$marker"
  say "Pulsar jars: $(find "$lib" -name '*.jar' | wc -l) in $lib"
}

# Milvus from the PyPI wheel: the binary and its libraries, the config template, glog.conf.
install_milvus() {
  local dest="$STACK_DIR/milvus" marker="$STACK_DIR/milvus/.stack-version" wheel
  [[ -f $marker && $(<"$marker") == "$MILVUS_VERSION" && -x $dest/bin/milvus ]] && return 0
  mkdir -p -- "$STACK_CACHE_DIR" "$dest"
  wheel=$(compgen -G "$STACK_CACHE_DIR/milvus-$MILVUS_VERSION-*.whl" | head -n 1 || true)
  if [[ -z $wheel ]]; then
    say "fetching the milvus==$MILVUS_VERSION wheel with pip"
    run_logged "pip download milvus==$MILVUS_VERSION" python3 -m pip download --no-deps \
      --only-binary=:all: -d "$STACK_CACHE_DIR" "milvus==$MILVUS_VERSION"
    wheel=$(compgen -G "$STACK_CACHE_DIR/milvus-$MILVUS_VERSION-*.whl" | head -n 1 || true)
    [[ -n $wheel ]] || die "pip download gave no milvus-$MILVUS_VERSION wheel in $STACK_CACHE_DIR"
  fi
  say "unpacking Milvus $MILVUS_VERSION from $(basename -- "$wheel")"
  python3 "$STACK_SRC/milvus/unpack_wheel.py" "$wheel" "$dest"
  printf '%s\n' "$MILVUS_VERSION" >"$marker"
}

cmd_install() {
  local t0=$SECONDS
  install_system_packages
  install_maven
  install_pulsar
  install_milvus
  ((SECONDS - t0 > 1)) && say "install done in $((SECONDS - t0))s"
  return 0
}
