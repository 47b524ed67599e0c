"""`python -m bench` (what `make bench` runs): every figure, each against its ceiling.

    python -m bench [--parts http,events,listening] [--quick] [--output bench/results]

Each part starts its own Tansu broker and services (uvicorn, one worker, SQLite files in a
temporary folder), so that no part's data or background work weighs on another's figures.
The ceiling app (bench/ceiling.py) runs all along, idle but for its own measurements.
Writes `latest.json` and `latest.md` in the output folder and prints the table. A benchmark
measures and reports: it never fails on a figure, only when the measurement itself fails.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import event_path, http_paths, listening
from bench.report import markdown, to_json
from bench.support import ROOT, Figure, Memory, machine, serve, service_env, write_json
from tests.support.broker import Broker

PARTS = ("http", "events", "listening")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="a comma-separated subset")
    parser.add_argument("--quick", action="store_true", help="short runs, to try the benchmark")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seconds", type=int, help="one wrk run under load (default 8)")
    parser.add_argument("--rounds", type=int, help="alternating rounds of wrk runs (default 2)")
    parser.add_argument("--rebuild-events", type=int, help="events to rebuild (default 200000)")
    args = parser.parse_args()
    parts = [part for part in args.parts.split(",") if part]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if "http" in parts and shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")

    quick = args.quick
    http_options = http_paths.Options(
        seconds=args.seconds or (3 if quick else 8),
        single_seconds=2 if quick else 4,
        rounds=args.rounds or (1 if quick else 2),
        connections=16,
        people=300,
    )
    event_options = event_path.Options(
        rate=200,
        seconds=10 if quick else 30,
        rebuild_events=args.rebuild_events or (20_000 if quick else 200_000),
    )
    listening_options = listening.Options(
        batches=10 if quick else 40, batch_size=500, concurrency=2
    )

    about = machine()
    started = time.monotonic()
    figures: list[Figure] = []
    details: dict = {}
    memory = Memory()
    folder = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    ceiling = serve("ceiling", "bench.ceiling:create_app", service_env(folder, ""), folder)
    try:
        ceiling.wait_ready("/constant")
        time.sleep(1)
        memory.at_rest["ceiling"] = ceiling.rss_mib()
        for part in parts:
            part_folder = folder / part
            part_folder.mkdir()
            broker = Broker().start()
            part_started = time.monotonic()
            print(f"bench: {part}...", file=sys.stderr, flush=True)
            try:
                if part == "http":
                    found, raw = http_paths.run(
                        http_options, part_folder, broker.bootstrap, ceiling, memory
                    )
                elif part == "events":
                    found, raw = event_path.run(
                        event_options, part_folder, broker.bootstrap, memory
                    )
                else:
                    found, raw = listening.run(
                        listening_options, part_folder, broker.bootstrap, ceiling, memory
                    )
            finally:
                broker.stop()
            figures += found
            details[part] = {**raw, "seconds": round(time.monotonic() - part_started, 1)}
        memory.after_load["ceiling"] = ceiling.rss_mib()
    except BaseException:
        print(f"bench: failed; the processes' logs are in {folder}", file=sys.stderr)
        ceiling.stop()
        raise
    ceiling.stop()
    shutil.rmtree(folder, ignore_errors=True)

    figures += memory_figures(memory)
    about["bench_seconds"] = round(time.monotonic() - started)
    about["quick"] = quick
    report = to_json(about, figures, details)
    args.output.mkdir(parents=True, exist_ok=True)
    write_json(args.output / "latest.json", report)
    table = markdown(about, figures)
    (args.output / "latest.md").write_text(table, encoding="utf-8")
    print(table)


def memory_figures(memory: Memory) -> list[Figure]:
    figures = []
    for name, mib in memory.at_rest.items():
        if name == "ceiling":
            continue
        figures.append(
            Figure(
                "memory",
                f"{name}: resident memory at rest",
                round(mib, 1),
                "MiB",
                round(memory.at_rest["ceiling"], 1),
                "bare FastAPI app at rest",
            )
        )
    for name, mib in memory.after_load.items():
        if name == "ceiling":
            continue
        figures.append(
            Figure(
                "memory",
                f"{name}: resident memory at the end of its load",
                round(mib, 1),
                "MiB",
                round(memory.after_load.get("ceiling", memory.at_rest["ceiling"]), 1),
                "bare FastAPI app after its loads",
            )
        )
    return figures


if __name__ == "__main__":
    main()
