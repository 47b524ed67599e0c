"""The listening service's ingest: batches of mentions, sentiment included, over real HTTP,
against the ceiling app receiving the same batches (parsed and validated, nothing stored).

The service runs with its outbox relay publishing to the broker, as in production: each
mention is a row, an event and a sentiment score. The load comes from `bench.mentions`, a
process of its own, first against the ceiling, then against the service.
"""

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.support import ROOT, Figure, Memory, Server, relay_drained, serve, service_env, token


@dataclass(frozen=True)
class Options:
    batches: int
    batch_size: int
    concurrency: int


def webhook_source(listening: Server, credentials: str, name: str) -> str:
    """A source for the mentions sent: its id."""
    source = httpx.post(
        f"{listening.url}/v1/sources",
        json={"name": name, "kind": "webhook"},
        headers={"Authorization": f"Bearer {credentials}"},
    )
    source.raise_for_status()
    return source.json()["id"]


def run(options: Options, folder: Path, bootstrap: str, ceiling: Server, memory: Memory):  # type: ignore[no-untyped-def]
    env = service_env(folder, bootstrap)
    with ExitStack() as stack:
        listening = serve("listening", "listening.main:create_app", env, folder)
        stack.callback(listening.stop)
        listening.wait_ready()
        time.sleep(1)
        memory.at_rest["listening"] = listening.rss_mib()
        credentials = token("system", "cco")
        source_id = webhook_source(listening, credentials, "bench")

        ceiling_cpu = ceiling.cpu_seconds()
        bare = _load(f"{ceiling.url}/mentions", source_id, options, credentials)
        ceiling_cpu = ceiling.cpu_seconds() - ceiling_cpu
        service_cpu = listening.cpu_seconds()
        ingest = _load(f"{listening.url}/v1/mentions", source_id, options, credentials)
        service_cpu = listening.cpu_seconds() - service_cpu
        drained = relay_drained(listening.url)
        memory.after_load["listening"] = listening.rss_mib()

    rate, ceiling_rate = ingest["mentions_per_second"], bare["mentions_per_second"]
    figures = [
        Figure(
            "listening",
            f"POST /v1/mentions, batches of {options.batch_size} with sentiment: mentions/s",
            round(rate),
            "mentions/s",
            round(ceiling_rate),
            "the same batches, parsed and validated only",
            "≥ 2,000 mentions/s",
            rate >= 2000,
            note=f"{options.concurrency} batches in flight; a batch takes "
            f"{ingest['batch_ms']['p50']:.0f} ms (p50); relay published the backlog "
            + (f"{drained} s after" if drained is not None else "not within 120 s"),
        ),
        Figure(
            "listening",
            "server CPU per mention",
            round(service_cpu / ingest["mentions"] * 1e6),
            "µs",
            round(ceiling_cpu / bare["mentions"] * 1e6),
            "the same batches, parsed and validated only",
            note=f"{ingest['mentions'] / service_cpu:.0f} mentions per CPU-second of the service",
        ),
    ]
    raw = {
        "service": ingest,
        "ceiling": bare,
        "service_cpu_seconds": round(service_cpu, 2),
        "ceiling_cpu_seconds": round(ceiling_cpu, 2),
        "relay_drained_seconds": drained,
    }
    return figures, raw


def _load(url: str, source_id: str, options: Options, credentials: str) -> dict:
    loader = subprocess.run(
        [sys.executable, "-m", "bench.mentions", url, "--source", source_id]
        + ["--batches", str(options.batches), "--batch-size", str(options.batch_size)]
        + ["--concurrency", str(options.concurrency)],
        input=credentials + "\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(loader.stdout)
