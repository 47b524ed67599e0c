"""The mentions load generator, in a process of its own: `python -m bench.mentions URL ...`.

Posts batches of bilingual customer posts (the evaluation set's texts, each with its own id,
over the last days) with `concurrency` batches in flight, after a few warm-up batches, and
prints one JSON object: mentions per second, batch latencies and its own CPU time.
"""

import argparse
import asyncio
import csv
import json
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from bench.support import ROOT

TEXTS = ROOT / "tests" / "data" / "sentiment_eval.csv"


def bodies(source_id: str, batches: int, size: int) -> list[bytes]:
    with TEXTS.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    now, run = datetime.now(UTC), uuid.uuid4().hex[:8]
    result = []
    for batch in range(batches):
        items = [
            {
                "source_id": source_id,
                "external_id": f"{run}-{batch}-{n}",
                "channel": "x",
                "author": f"@user{n % 97}",
                "text": texts[(batch * size + n) % len(texts)],
                "published_at": (now - timedelta(minutes=n % 5_000)).isoformat(),
            }
            for n in range(size)
        ]
        result.append(json.dumps({"items": items}).encode())
    return result


async def load(url: str, token: str, args: argparse.Namespace) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=args.concurrency)
    all_bodies = bodies(args.source, args.warmup + args.batches, args.batch_size)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers=headers) as client:
        for body in all_bodies[: args.warmup]:
            (await client.post(url, content=body)).raise_for_status()
        queue = list(reversed(all_bodies[args.warmup :]))
        latencies: list[float] = []

        async def worker() -> None:
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                answer = await client.post(url, content=body)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 201 or answer.json()["created"] != args.batch_size:
                    raise RuntimeError(f"{answer.status_code}: {answer.text[:500]}")

        cpu_before = _cpu()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        cpu = _cpu() - cpu_before
    mentions = len(latencies) * args.batch_size
    return {
        "mentions": mentions,
        "seconds": round(elapsed, 3),
        "mentions_per_second": round(mentions / elapsed, 1),
        "batch_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "load_generator_cpu_seconds": round(cpu, 2),
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--source", default=str(uuid.uuid4()))
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    token = sys.stdin.readline().strip()
    json.dump(asyncio.run(load(args.url, token, args)), sys.stdout)


if __name__ == "__main__":
    main()
