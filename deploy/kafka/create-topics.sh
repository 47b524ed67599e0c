#!/bin/sh
# Creates the platform's topics, and their dead-letter topics, with the partition count the
# services expect. Run by docker-compose.yml's kafka-topics job and by deploy/k8s's Job, in the
# apache/kafka image. Safe to run again: existing topics are left as they are.
#
#   BOOTSTRAP_SERVERS    the broker                                  (kafka:9092)
#   PARTITIONS           partitions of each topic: the services' KAFKA_PARTITIONS (required)
#   REPLICATION_FACTOR   copies of each partition                    (1; 3 in production)
#   MIN_INSYNC_REPLICAS  copies a write waits for with acks=all      (1; 2 in production)
#   KAFKA_TOPICS         the kafka-topics.sh to run          (/opt/kafka/bin/kafka-topics.sh)
#
# The partition count bounds each consumer group: a strategy replica beyond it gets no
# partition and consumes nothing. Raising it later (kafka-topics.sh --alter) moves keys to other
# partitions, so events of one aggregate may then be read out of order once: do it deliberately.
set -eu

BOOTSTRAP_SERVERS="${BOOTSTRAP_SERVERS:-kafka:9092}"
PARTITIONS="${PARTITIONS:?set PARTITIONS to the services' KAFKA_PARTITIONS}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-1}"
SERVICES="people communities listening collaboration strategy"
topics_tool="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"

attempts=0
until "$topics_tool" --bootstrap-server "$BOOTSTRAP_SERVERS" --list > /dev/null 2>&1; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 60 ]; then
    echo "the broker at $BOOTSTRAP_SERVERS did not answer" >&2
    exit 1
  fi
  sleep 2
done

for service in $SERVICES; do
  for topic in "$service.events" "$service.events.dlq"; do
    "$topics_tool" --bootstrap-server "$BOOTSTRAP_SERVERS" --create --if-not-exists \
      --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION_FACTOR" \
      --config "min.insync.replicas=$MIN_INSYNC_REPLICAS"
  done
done
"$topics_tool" --bootstrap-server "$BOOTSTRAP_SERVERS" --describe | grep PartitionCount
