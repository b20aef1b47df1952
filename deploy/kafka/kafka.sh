#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) on 127.0.0.1 for development: jars from Maven Central, free ports,
# a temporary log dir removed on exit.   deploy/kafka/kafka.sh fetch | run
set -euo pipefail
exec python -m wisetrader.devtools.kafka "$@"
