#!/bin/sh
# Creates the pipeline's topics, or brings the settings of existing ones up to date; run once by the topics-init
# service of docker-compose.yml (POSIX sh, in the apache/kafka image). Safe to run again.
#
#   BOOTSTRAP_SERVERS   kafka:9092
#   REPLICATION_FACTOR  replication factor of new topics
#   TOPICS              one topic a line: "name partitions key=value,key=value,..."
#   COMMAND_CONFIG      optional client properties file (SASL_SSL etc.) passed as --command-config
#
# A topic with fewer partitions than asked gets more (kafka-topics --alter); never fewer. Read "Scale" in the
# README before adding partitions to a topic the streams app already reads.
set -eu

KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
: "${BOOTSTRAP_SERVERS:?BOOTSTRAP_SERVERS is not set}"
: "${TOPICS:?TOPICS is not set}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
client_config=""
if [ -n "${COMMAND_CONFIG:-}" ]; then
  client_config="--command-config ${COMMAND_CONFIG}"
fi

kafka_topics() {
  # shellcheck disable=SC2086
  "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" $client_config "$@"
}

kafka_configs() {
  # shellcheck disable=SC2086
  "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" $client_config "$@"
}

echo "topics-init: waiting for $BOOTSTRAP_SERVERS"
tries=0
until kafka_topics --list > /dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "topics-init: Kafka at $BOOTSTRAP_SERVERS did not answer within 120 s" >&2
    exit 1
  fi
  sleep 2
done

existing="$(kafka_topics --list)"
echo "$TOPICS" | while read -r name partitions configs; do
  [ -z "$name" ] && continue
  case "$name" in \#*) continue ;; esac
  if echo "$existing" | grep -qx "$name"; then
    current="$(kafka_topics --describe --topic "$name" | sed -n 's/.*PartitionCount: *\([0-9][0-9]*\).*/\1/p' | head -n 1)"
    if [ -n "$current" ] && [ "$current" -lt "$partitions" ]; then
      echo "topics-init: $name: $current -> $partitions partitions"
      kafka_topics --alter --topic "$name" --partitions "$partitions"
    fi
    echo "topics-init: $name exists; setting $configs"
    kafka_configs --alter --entity-type topics --entity-name "$name" --add-config "$configs"
  else
    echo "topics-init: creating $name ($partitions partitions, replication $REPLICATION_FACTOR, $configs)"
    set -- --create --if-not-exists --topic "$name" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR"
    old_ifs="$IFS"
    IFS=','
    for config in $configs; do
      set -- "$@" --config "$config"
    done
    IFS="$old_ifs"
    kafka_topics "$@"
  fi
done
echo "topics-init: done"
kafka_topics --describe --exclude-internal | grep -v '^[[:space:]]*Topic: .*Partition: ' || true
