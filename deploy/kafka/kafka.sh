#!/usr/bin/env bash
# A real Apache Kafka broker for the hub: one KRaft node (broker and controller) on 127.0.0.1.
#
#   deploy/kafka/kafka.sh start     # fetch the jars once, format, start; prints the bootstrap address
#   deploy/kafka/kafka.sh stop      # stop the broker started from the same run folder, by its PID
#   deploy/kafka/kafka.sh restart   # stop it and start it again: same address, same data
#   deploy/kafka/kafka.sh status    # the bootstrap address if it answers, exit 1 if not
#   deploy/kafka/kafka.sh fetch     # only fetch the jars into the cache
#
# Settings (environment): HUB_KAFKA_CACHE, where the jars are kept between runs
# (default ~/.cache/shared-outcomes-hub/kafka); HUB_KAFKA_RUN, the run folder with config, data,
# logs, PID and the `bootstrap` file (default /tmp/hub-kafka). If KAFKA_BOOTSTRAP_SERVERS is set,
# `start` starts nothing and prints it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${HUB_KAFKA_CACHE:-$HOME/.cache/shared-outcomes-hub/kafka}/$version"
run="${HUB_KAFKA_RUN:-/tmp/hub-kafka}"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$cache/complete" ]; then return 0; fi
  say "fetching Apache Kafka $version and its dependencies into $cache (once)"
  mkdir -p "$cache/libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$cache/libs" -DincludeScope=runtime >&2
  touch "$cache/complete"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

answers() {  # does a TCP connection to host:port succeed?
  python3 - "$1" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

start() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then echo "$KAFKA_BOOTSTRAP_SERVERS"; return 0; fi
  if [ -f "$run/kafka.pid" ] && kill -0 "$(cat "$run/kafka.pid")" 2>/dev/null; then
    say "already running (PID $(cat "$run/kafka.pid"))"; cat "$run/bootstrap"; return 0
  fi
  fetch
  rm -rf "$run"; mkdir -p "$run/data"
  local port controller
  port="$(free_port)"; controller="$(free_port)"
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$run/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat > "$run/log4j2.properties" <<LOG
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $run/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
LOG
  local java_opts=(-Xms256m -Xmx1g "-Dlog4j2.configurationFile=$run/log4j2.properties")
  local cluster
  # A random cluster id (URL-safe base64 of a UUID) not starting with "-", which the storage
  # tool would read as an option.
  cluster="$(python3 -c 'import base64, uuid
while (c := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(c)')"
  java "${java_opts[@]}" -cp "$cache/libs/*" kafka.tools.StorageTool format \
    -t "$cluster" -c "$run/server.properties" > "$run/format.out" 2>&1 \
    || { say "formatting the storage failed:"; cat "$run/format.out" >&2; exit 1; }
  echo "127.0.0.1:$port" > "$run/bootstrap"
  launch
}

launch() {  # start the configured broker on its data and wait until it answers
  local java_opts=(-Xms256m -Xmx1g "-Dlog4j2.configurationFile=$run/log4j2.properties")
  local bootstrap; bootstrap="$(cat "$run/bootstrap")"
  : > "$run/server.log"
  nohup java "${java_opts[@]}" -cp "$cache/libs/*" kafka.Kafka "$run/server.properties" \
    > "$run/kafka.out" 2>&1 &
  echo $! > "$run/kafka.pid"
  for _ in $(seq 1 120); do
    if answers "$bootstrap" && grep -q "Kafka Server started" "$run/server.log" 2>/dev/null; then
      say "started (PID $(cat "$run/kafka.pid")) on $bootstrap"
      cat "$run/bootstrap"; return 0
    fi
    if ! kill -0 "$(cat "$run/kafka.pid")" 2>/dev/null; then
      say "the broker exited; its output:"; tail -n 40 "$run/kafka.out" >&2; exit 1
    fi
    sleep 0.5
  done
  say "the broker did not answer within 60 s; see $run/server.log"; stop; exit 1
}

stop() {
  if [ ! -f "$run/kafka.pid" ]; then say "nothing to stop in $run"; return 0; fi
  local pid; pid="$(cat "$run/kafka.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    say "stopped (PID $pid)"
  fi
  rm -f "$run/kafka.pid"
}

restart() {  # the same broker again: same address, same data (a restart, not a new broker)
  [ -f "$run/server.properties" ] || { say "nothing configured in $run: use start"; exit 1; }
  stop
  fetch
  launch
}

status() {
  [ -f "$run/bootstrap" ] && answers "$(cat "$run/bootstrap")" && cat "$run/bootstrap" && return 0
  say "not running"; return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  status) status ;;
  fetch) fetch ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
