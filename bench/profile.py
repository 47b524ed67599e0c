"""Where a service spends its time on a path, sampled with py-spy from outside the process.

    python -m bench.profile {read,list,gateway,write,rebuild,listening} [--seconds 10]

Starts what the path needs (as `make bench` does), loads it, and samples the process doing
the work with `py-spy record` (no change to the process; a few percent of one core). Writes
the raw stacks to bench/results/profiles/<path>.txt (flame-graph tools read them) and prints
where the samples fall: by package of the innermost frame (where the CPU is spent) and the
functions that are most often on the stack.
"""

import argparse
import asyncio
import collections
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import corpus, event_path, http_paths
from bench.listening import webhook_source
from bench.support import ROOT, serve, service_env, token, wait_until, wrk
from tests.support.broker import Broker

OUTPUT = ROOT / "bench" / "results" / "profiles"
# Where a frame's file lives -> the name it is counted under.
PACKAGES = [
    ("/jwt/", "PyJWT"),
    ("/cryptography/", "cryptography"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/sqlmodel/", "SQLModel"),
    ("/pydantic/", "pydantic"),
    ("/pydantic_core/", "pydantic"),
    ("/fastapi/", "FastAPI"),
    ("/starlette/", "Starlette"),
    ("/uvicorn/", "uvicorn"),
    ("/h11/", "h11"),
    ("/httptools/", "httptools"),
    ("/anyio/", "anyio (thread pool)"),
    ("/asgi_correlation_id/", "asgi-correlation-id"),
    ("/prometheus_client/", "prometheus-client"),
    ("/limits/", "limits"),
    ("/httpx/", "httpx"),
    ("/httpcore/", "httpcore"),
    ("/aiokafka/", "aiokafka"),
    ("/cloudevents/", "cloudevents"),
    ("/alembic/", "alembic"),
    ("/vaderSentiment/", "vaderSentiment"),
    ("/shared/", "agora shared"),
    ("/people/", "agora people"),
    ("/strategy/", "agora strategy"),
    ("/listening/", "agora listening"),
    ("/gateway/", "agora gateway"),
    ("/asyncio/", "asyncio"),
    ("/concurrent/", "threads"),
    ("/threading.py", "threads"),
    ("/json/", "json"),
    ("/logging/", "logging"),
]
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def record(
    pid: int, seconds: float, name: str, gil: bool = True
) -> tuple[Path, subprocess.Popen[bytes]]:
    """Samples `pid` for `seconds` in a background process; returns where the stacks go.

    With `gil`, only the thread holding the GIL is sampled: the Python work that one core
    can do, without the threads that wait (for a lock, the pool's queue, SQLite's C code).
    """
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.txt"
    return path, subprocess.Popen(
        [
            # The wheel installs the binary beside the interpreter.
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            *(["--gil"] if gil else []),
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summary(path: Path, top: int = 25) -> str:
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    on_stack: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(frame) for frame in stack.split(";")]
        frames = [frame for frame in frames if frame is not None]
        if not frames:
            continue
        by_package[_package(frames[-1][1])] += samples
        by_function[f"{_short(frames[-1][1])}:{frames[-1][0]}"] += samples
        for function in {f"{_short(file)}:{function}" for function, file in frames}:
            on_stack[function] += samples
    lines = [f"{total} samples", "", "innermost frame's package (where the CPU goes):"]
    for package, samples in by_package.most_common(top):
        lines.append(f"  {samples / total:6.1%}  {package}")
    lines += ["", "innermost functions (self time):"]
    for function, samples in by_function.most_common(top):
        lines.append(f"  {samples / total:6.1%}  {function}")
    lines += ["", "functions most often on the stack (inclusive):"]
    for function, samples in on_stack.most_common(top * 2):
        lines.append(f"  {samples / total:6.1%}  {function}")
    return "\n".join(lines)


def _frame(text: str) -> tuple[str, str] | None:
    found = FRAME.match(text.strip())
    if found is None:
        return None
    return found["function"], found["file"]


def _package(file: str) -> str:
    # py-spy names files from their sys.path entry on ("sqlalchemy/orm/loading.py").
    file = file if file.startswith("/") else f"/{file}"
    for fragment, name in PACKAGES:
        if fragment in file:
            return name
    return Path(file).name or file


def _short(file: str) -> str:
    for marker in ("site-packages/", "/services/", "/shared/", "/gateway/", "/lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return Path(file).name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", choices=["read", "list", "gateway", "write", "rebuild", "listening"]
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16, help="wrk's, for HTTP paths")
    parser.add_argument("--events", type=int, default=60_000, help="events for the rebuild")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="agora-profile-"))
    broker = Broker().start()
    try:
        with ExitStack() as stack:
            stack.callback(broker.stop)
            path = _profile(args, folder, broker.bootstrap, stack)
    finally:
        print(f"logs in {folder}", file=sys.stderr)
    print(summary(path))
    print(f"\nraw stacks: {path.relative_to(ROOT)}")


def _profile(args: argparse.Namespace, folder: Path, bootstrap: str, stack: ExitStack) -> Path:
    env = service_env(
        folder,
        bootstrap,
        GATEWAY_RATE_LIMIT_PER_IP=http_paths.GENEROUS,
        GATEWAY_RATE_LIMIT_PER_CLIENT=http_paths.GENEROUS,
    )
    auth = {"Authorization": f"Bearer {token('cco', 'system')}"}
    if args.path == "rebuild":
        return _profile_rebuild(args, folder, bootstrap, env, auth, stack)
    if args.path == "listening":
        return _profile_listening(args, folder, env, stack)
    people = serve("people", "people.main:create_app", env, folder)
    stack.callback(people.stop)
    people.wait_ready()
    person = http_paths._seed(people.url, auth, 300)  # noqa: SLF001
    target, url = people, f"{people.url}/v1/people/{person}"
    if args.path == "list":
        url = f"{people.url}/v1/people?limit=50"
    if args.path == "gateway":
        env["GATEWAY_PEOPLE_URL"] = people.url
        gateway = serve("gateway", "gateway.main:create_app", env, folder)
        stack.callback(gateway.stop)
        gateway.wait_ready()
        target, url = gateway, f"{gateway.url}/api/people/v1/people/{person}"
    options: dict = {"headers": auth}
    if args.path == "write":
        url = f"{people.url}/v1/people"
        options = {
            "headers": {**auth, "Content-Type": "application/json"},
            "script": http_paths.HERE / "post_person.lua",
            "script_args": ("warm-up", "rd"),
        }
    wrk(url, connections=16, seconds=2, **options)
    if args.path == "write":
        options["script_args"] = ("profile", "rd")  # new emails: the warm-up's would be 409s
    path, sampler = record(target.pid, args.seconds, args.path)
    time.sleep(0.5)
    wrk(url, connections=args.connections, seconds=args.seconds, **options)
    sampler.wait()
    return path


def _profile_rebuild(args, folder, bootstrap, env, auth, stack) -> Path:  # type: ignore[no-untyped-def]
    strategy = serve("strategy", "strategy.main:create_app", env, folder)
    stack.callback(strategy.stop)
    strategy.wait_ready()
    messages = corpus.build(args.events)
    asyncio.run(event_path._produce(bootstrap, messages))  # noqa: SLF001
    view = lambda: event_path._view_file(folder)  # noqa: E731, SLF001
    wait_until(
        lambda: event_path._count(view(), "processed_event") >= len(messages),  # noqa: SLF001
        900,
        0.5,
        "the live view",
    )
    answer = httpx.post(f"{strategy.url}/v1/admin/rebuild", headers=auth, timeout=30)
    answer.raise_for_status()
    path, sampler = record(strategy.pid, args.seconds, "rebuild")
    sampler.wait()
    return path


def _profile_listening(args, folder, env, stack) -> Path:  # type: ignore[no-untyped-def]
    listening = serve("listening", "listening.main:create_app", env, folder)
    stack.callback(listening.stop)
    listening.wait_ready()
    credentials = token("system", "cco")
    source_id = webhook_source(listening, credentials, "profile")
    path, sampler = record(listening.pid, args.seconds, "listening")
    done = threading.Event()

    def load() -> None:
        while not done.is_set():
            subprocess.run(
                [sys.executable, "-m", "bench.mentions", f"{listening.url}/v1/mentions"]
                + ["--source", source_id, "--batches", "20", "--warmup", "0"],
                input=credentials + "\n",
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            )

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    sampler.wait()
    done.set()
    loader.join()
    return path


if __name__ == "__main__":
    main()
