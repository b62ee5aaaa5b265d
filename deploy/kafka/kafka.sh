#!/usr/bin/env bash
# A real Apache Kafka broker for the hub, secured as production would be: one KRaft node (broker
# and controller) on 127.0.0.1, clients on SASL_SSL with SCRAM-SHA-512, the controller on
# SASL_PLAINTEXT with PLAIN for the hub alone, StandardAuthorizer denying whatever no ACL allows.
#
#   deploy/kafka/kafka.sh start     # fetch the jars once, make the TLS files and the hub's
#                                   # credential, format, start; prints the bootstrap address
#   deploy/kafka/kafka.sh stop      # stop the broker started from the same run folder, by its PID
#   deploy/kafka/kafka.sh restart   # stop it and start it again: same address, data, credentials
#   deploy/kafka/kafka.sh status    # the bootstrap address if it answers, exit 1 if not
#   deploy/kafka/kafka.sh fetch     # only fetch the jars into the cache
#   deploy/kafka/kafka.sh run CLASS [ARG...]   # a Java class of Kafka's, e.g.
#       kafka.sh run org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$(cat run/bootstrap)" \
#         --producer.config run/hub.properties --topic hub.inbound.police-north.v1
#
# The run folder (its owner's alone) then holds the hub principal's client configuration twice:
# `hub.properties` (Java clients and `hub --client-config`) and `hub.librdkafka.properties`;
# `hub-controller.properties` (the controller listener, for Java admin tools); `tls/ca.pem`,
# the CA clients trust; and the files `bootstrap` and `controller` (their addresses).
#
# Settings (environment): HUB_KAFKA_CACHE, where the jars are kept between runs
# (default ~/.cache/shared-outcomes-hub/kafka); HUB_KAFKA_RUN, the run folder with config, data,
# logs, PID and credentials (default /tmp/hub-kafka); HUB_KAFKA_REAUTH_MS, how long a
# connection's authentication lasts before it must authenticate again (default 30000: a revoked
# agency's open connections end within it). If KAFKA_BOOTSTRAP_SERVERS is set, `start` starts
# nothing and prints it (the tests then take the client configuration from KAFKA_CLIENT_CONFIG).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${HUB_KAFKA_CACHE:-$HOME/.cache/shared-outcomes-hub/kafka}/$version"
run="${HUB_KAFKA_RUN:-/tmp/hub-kafka}"
reauth_ms="${HUB_KAFKA_REAUTH_MS:-30000}"
# The jars of this pom: a changed list of dependencies is fetched again.
marker="$cache/complete-$(sha256sum "$here/pom.xml" | cut -c1-16)"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$marker" ]; then return 0; fi
  say "fetching Apache Kafka $version, its tools and dependencies into $cache (once)"
  rm -rf "$cache/libs"; mkdir -p "$cache/libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$cache/libs" -DincludeScope=runtime >&2
  touch "$marker"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

secret() {  # a random password: URL-safe, so it needs no quoting in JAAS or properties files
  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
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

make_tls() {  # a CA of this broker alone, and the broker's certificate for 127.0.0.1
  local tls="$run/tls" store_password="$1"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -keyout "$tls/ca.key" -out "$tls/ca.pem" \
    -subj "/CN=Shared Outcomes Hub broker CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2> "$tls/openssl.out"
  openssl req -newkey rsa:3072 -nodes -keyout "$tls/broker.key" -out "$tls/broker.csr" \
    -subj "/CN=127.0.0.1" 2>> "$tls/openssl.out"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' \
    > "$tls/broker.ext"
  openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 825 -sha256 -extfile "$tls/broker.ext" -out "$tls/broker.pem" \
    2>> "$tls/openssl.out"
  openssl pkcs12 -export -in "$tls/broker.pem" -inkey "$tls/broker.key" -certfile "$tls/ca.pem" \
    -name broker -out "$tls/broker.p12" -passout "pass:$store_password"
  # The CA signs nothing more: its key goes, so no other certificate can be made to pass.
  rm -f "$tls/ca.key" "$tls/ca.srl" "$tls/broker.csr" "$tls/broker.key" "$tls/broker.ext"
  chmod 644 "$tls/ca.pem"  # what every client may read; the rest of the run folder is private
}

client_configs() {  # the hub principal's client configurations (Java, librdkafka, controller)
  local bootstrap="$1" controller="$2" password="$3" controller_password="$4"
  cat > "$run/hub.properties" <<PROPS
# The hub principal (a super user) on the broker's SASL_SSL listener; Java clients and
# \`hub --client-config\`. Readable by its owner alone.
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="hub" password="$password";
ssl.truststore.type=PEM
ssl.truststore.location=$run/tls/ca.pem
PROPS
  cat > "$run/hub.librdkafka.properties" <<PROPS
# The hub principal for librdkafka clients (kcat -F, confluent-kafka). Its owner's alone.
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanisms=SCRAM-SHA-512
sasl.username=hub
sasl.password=$password
ssl.ca.location=$run/tls/ca.pem
PROPS
  cat > "$run/hub-controller.properties" <<PROPS
# The hub principal on the controller listener (Java admin tools: --bootstrap-controller).
bootstrap.controllers=$controller
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="hub" password="$controller_password";
PROPS
  chmod 600 "$run/hub.properties" "$run/hub.librdkafka.properties" "$run/hub-controller.properties"
}

start() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then echo "$KAFKA_BOOTSTRAP_SERVERS"; return 0; fi
  if [ -f "$run/kafka.pid" ] && kill -0 "$(cat "$run/kafka.pid")" 2>/dev/null; then
    say "already running (PID $(cat "$run/kafka.pid"))"; cat "$run/bootstrap"; return 0
  fi
  command -v openssl > /dev/null || { say "openssl is needed to make the broker's certificate"; exit 1; }
  fetch
  rm -rf "$run"; mkdir -p "$run/data"; chmod 700 "$run"
  umask 077
  local port controller password controller_password store_password
  port="$(free_port)"; controller="$(free_port)"
  password="$(secret)"; controller_password="$(secret)"; store_password="$(secret)"
  make_tls "$store_password"
  # CLIENT: agencies and the hub, TLS and SCRAM. CONTROLLER: the KRaft controller, which SCRAM
  # cannot serve (its credentials live in the metadata the controller itself holds), so PLAIN
  # with one user, the hub: never PLAINTEXT, which would make User:ANONYMOUS a super user there.
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=CLIENT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=CLIENT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="hub" password="$password";
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="hub" password="$controller_password" user_hub="$controller_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=$run/tls/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.truststore.type=PEM
ssl.truststore.location=$run/tls/ca.pem
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:hub
connections.max.reauth.ms=$reauth_ms
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
  # The hub's SCRAM credential goes into the metadata as the storage is formatted: the broker
  # then never starts without a principal that can set up the rest.
  java "${java_opts[@]}" -cp "$cache/libs/*" kafka.tools.StorageTool format \
    -t "$cluster" -c "$run/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=hub,password=$password]" > "$run/format.out" 2>&1 \
    || { say "formatting the storage failed:"; cat "$run/format.out" >&2; exit 1; }
  echo "127.0.0.1:$port" > "$run/bootstrap"
  echo "127.0.0.1:$controller" > "$run/controller"
  chmod 644 "$run/bootstrap" "$run/controller"
  client_configs "127.0.0.1:$port" "127.0.0.1:$controller" "$password" "$controller_password"
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

run_class() {  # a Java class of Kafka's (its console tools: the Maven fetch has no bin/ scripts)
  [ $# -ge 1 ] || { say "run: name a class, e.g. org.apache.kafka.tools.ConsoleProducer"; exit 2; }
  fetch
  exec java -Xmx512m "-Dlog4j2.configurationFile=$here/tools-log4j2.properties" \
    -cp "$cache/libs/*" "$@"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  status) status ;;
  fetch) fetch ;;
  run) shift; run_class "$@" ;;
  *) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
