"""The people service's read and write paths, and the gateway in front of it, against the
ceiling app, with wrk in its own process.

Throughput and its latencies are measured with `connections` requests in flight (the server
saturated), the latency of one request with a single connection (no queueing). The runs of
the service and of its ceiling alternate, round after round, and the median of each is kept:
a noisy machine shifts both alike.
"""

import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.support import (
    Figure,
    Memory,
    Server,
    WrkRun,
    median,
    relay_drained,
    serve,
    service_env,
    token,
    wrk,
)

HERE = Path(__file__).resolve().parent
DEPARTMENTS = {
    "rd": "R&D",
    "after-sales": "Service après-vente",
    "it": "Information systems",
    "hr": "Human resources",
    "marketing": "Marketing",
}
SKILLS = ["python", "sql", "repairs", "negotiation", "kafka", "recruiting", "seo", "support"]
GENEROUS = "100000000/minute"


@dataclass(frozen=True)
class Options:
    seconds: int
    single_seconds: int
    rounds: int
    connections: int
    people: int


def run(options: Options, folder: Path, bootstrap: str, ceiling: Server, memory: Memory):  # type: ignore[no-untyped-def]
    env = service_env(
        folder,
        bootstrap,
        # The limiter still counts every request; its limits are only set out of reach.
        GATEWAY_RATE_LIMIT_PER_IP=GENEROUS,
        GATEWAY_RATE_LIMIT_PER_CLIENT=GENEROUS,
    )
    with ExitStack() as stack:
        people = serve("people", "people.main:create_app", env, folder)
        stack.callback(people.stop)
        people.wait_ready()
        env["GATEWAY_PEOPLE_URL"] = people.url
        gateway = serve("gateway", "gateway.main:create_app", env, folder)
        stack.callback(gateway.stop)
        gateway.wait_ready()
        time.sleep(1)
        memory.at_rest["people"] = people.rss_mib()
        memory.at_rest["gateway"] = gateway.rss_mib()

        auth = {"Authorization": f"Bearer {token('cco', 'system')}"}
        person_id = _seed(people.url, auth, options.people)
        reads = {
            "ceiling": (f"{ceiling.url}/constant", (ceiling,)),
            "person": (f"{people.url}/v1/people/{person_id}", (people,)),
            "list": (f"{people.url}/v1/people?limit=50", (people,)),
            "gateway": (f"{gateway.url}/api/people/v1/people/{person_id}", (gateway, people)),
        }
        loaded: dict[str, list[WrkRun]] = {name: [] for name in reads}
        single: dict[str, list[WrkRun]] = {name: [] for name in reads}
        for url, _ in reads.values():  # warm-up: connections, caches, the first queries
            wrk(url, connections=options.connections, seconds=2, headers=auth)
        for _ in range(options.rounds):
            for name, (url, servers) in reads.items():
                loaded[name].append(
                    wrk(
                        url,
                        connections=options.connections,
                        seconds=options.seconds,
                        headers=auth,
                        servers=servers,
                    )
                )
                single[name].append(
                    wrk(url, connections=1, seconds=options.single_seconds, headers=auth)
                )

        writes = {
            "ceiling": (f"{ceiling.url}/constant", (ceiling,)),
            "people": (f"{people.url}/v1/people", (people,)),
        }
        written: dict[str, list[WrkRun]] = {name: [] for name in writes}
        json_auth = {**auth, "Content-Type": "application/json"}
        for _ in range(options.rounds):
            for name, (url, servers) in writes.items():
                written[name].append(
                    wrk(
                        url,
                        connections=options.connections,
                        seconds=options.seconds,
                        headers=json_auth,
                        script=HERE / "post_person.lua",
                        script_args=(uuid.uuid4().hex[:12], "rd"),
                        servers=servers,
                    )
                )
        drained = relay_drained(people.url)
        memory.after_load["people"] = people.rss_mib()
        memory.after_load["gateway"] = gateway.rss_mib()
        people_count = _count_people(people.url, auth)

    return _figures(options, loaded, single, written, drained, people_count)


def _seed(base: str, auth: dict[str, str], count: int) -> str:
    """Departments, then `count` people with two skills each (one HR import); the first's id."""
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        for department_id, name in DEPARTMENTS.items():
            client.post(
                "/v1/departments", json={"id": department_id, "name": name}
            ).raise_for_status()
        rows = ["name,email,department_id,title,community_experience_years,skills"]
        departments = list(DEPARTMENTS)
        for n in range(count):
            skills = f"{SKILLS[n % len(SKILLS)]}:{1 + n % 5};{SKILLS[(n + 3) % len(SKILLS)]}:3"
            rows.append(
                f"Person {n},person{n}@example.com,{departments[n % len(departments)]},"
                f"Engineer,{n % 12},{skills}"
            )
        answer = client.post(
            "/v1/people/import",
            content="\n".join(rows).encode(),
            headers={"Content-Type": "text/csv"},
        )
        answer.raise_for_status()
        page = client.get("/v1/people", params={"limit": 1}).json()
        return page["items"][0]["id"]


def _count_people(base: str, auth: dict[str, str]) -> int:
    """How many people the service holds (pages of 200), to check the writes landed."""
    total, cursor = 0, None
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        while True:
            params: dict[str, object] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/people", params=params).json()
            total += len(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return total


def _cpu_per_request_us(runs: list[WrkRun], server: str) -> float:
    """Median over the rounds of the server's CPU time per request, in microseconds."""
    return median([run.server_cpu_seconds[server] / run.requests * 1e6 for run in runs])


def _figures(
    options: Options,
    loaded: dict[str, list[WrkRun]],
    single: dict[str, list[WrkRun]],
    written: dict[str, list[WrkRun]],
    relay_drained: float | None,
    people_count: int,
) -> tuple[list[Figure], dict]:
    def m(runs: list[WrkRun], field: str) -> float:
        return median([getattr(run, field) for run in runs])

    c = options.connections
    ceiling = "constant endpoint"
    figures: list[Figure] = []
    for name, label, target in (
        ("person", "GET /v1/people/{id}", 0.5),
        ("list", "GET /v1/people?limit=50", None),
    ):
        rps = m(loaded[name], "requests_per_second")
        ceiling_rps = m(loaded["ceiling"], "requests_per_second")
        figures.append(
            Figure(
                "read",
                f"{label}: requests/s ({c} connections)",
                round(rps, 1),
                "req/s",
                round(ceiling_rps, 1),
                ceiling,
                f"≥ {target} of ceiling" if target else None,
                (rps / ceiling_rps >= target) if target else None,
            )
        )
        for runs, load, digits in ((loaded, f"{c} connections", 2), (single, "1 connection", 3)):
            for field, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
                figures.append(
                    Figure(
                        "read",
                        f"{label}: {what} at {load}",
                        round(m(runs[name], field), digits),
                        "ms",
                        round(m(runs["ceiling"], field), digits),
                        ceiling,
                    )
                )
        figures.append(
            Figure(
                "read",
                f"{label}: server CPU per request",
                round(_cpu_per_request_us(loaded[name], "people")),
                "µs",
                round(_cpu_per_request_us(loaded["ceiling"], "ceiling")),
                ceiling,
                note=f"{1e6 / _cpu_per_request_us(loaded[name], 'people'):.0f} requests per "
                "CPU-second of the service",
            )
        )

    direct_rps = m(loaded["person"], "requests_per_second")
    gateway_rps = m(loaded["gateway"], "requests_per_second")
    figures.append(
        Figure(
            "gateway",
            f"GET /api/people/v1/people/{{id}} through the gateway: requests/s ({c} connections)",
            round(gateway_rps, 1),
            "req/s",
            round(direct_rps, 1),
            "the same read direct",
            "≥ 0.5 of direct",
            gateway_rps / direct_rps >= 0.5,
            note="the gateway, the service and wrk share 2 cores",
        )
    )
    for field, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
        through, direct = m(single["gateway"], field), m(single["person"], field)
        figures.append(
            Figure(
                "gateway",
                f"through the gateway: {what} at 1 connection",
                round(through, 3),
                "ms",
                round(direct, 3),
                "the same read direct",
                note=f"the gateway adds {through - direct:.2f} ms",
            )
        )
    figures.append(
        Figure(
            "gateway",
            "gateway process CPU per proxied request",
            round(_cpu_per_request_us(loaded["gateway"], "gateway")),
            "µs",
            round(_cpu_per_request_us(loaded["ceiling"], "ceiling")),
            ceiling,
        )
    )

    write_rps = m(written["people"], "requests_per_second")
    figures.append(
        Figure(
            "write",
            f"POST /v1/people (row + outbox event): sustained writes/s ({c} connections)",
            round(write_rps, 1),
            "req/s",
            round(m(written["ceiling"], "requests_per_second"), 1),
            "constant endpoint, same body",
            note=(
                f"relay published the backlog {relay_drained} s after the last write"
                if relay_drained is not None
                else "relay still behind 120 s after the last write"
            ),
        )
    )
    for field, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
        figures.append(
            Figure(
                "write",
                f"POST /v1/people: {what} at {c} connections",
                round(m(written["people"], field), 2),
                "ms",
                round(m(written["ceiling"], field), 2),
                "constant endpoint, same body",
            )
        )
    figures.append(
        Figure(
            "write",
            "POST /v1/people: server CPU per write (relay included)",
            round(_cpu_per_request_us(written["people"], "people")),
            "µs",
            round(_cpu_per_request_us(written["ceiling"], "ceiling")),
            "constant endpoint, same body",
        )
    )

    writes_sent = sum(run.requests for run in written["people"])
    ceiling_runs = loaded["ceiling"]
    raw = {
        "connections": c,
        "seconds": options.seconds,
        "rounds": options.rounds,
        "people_seeded": options.people,
        "people_after_writes": people_count,
        "writes_answered": writes_sent,
        "load_generator": {
            "tool": "wrk -t1",
            "wrk_cpu_share_of_a_core_during_ceiling_runs": round(
                median([run.wrk_cpu_seconds / run.seconds for run in ceiling_runs]), 3
            ),
            "wrk_cpu_us_per_request_ceiling": round(
                median([run.wrk_cpu_seconds / run.requests * 1e6 for run in ceiling_runs]), 1
            ),
        },
        "runs": {
            "loaded": {k: [vars(r) for r in v] for k, v in loaded.items()},
            "single": {k: [vars(r) for r in v] for k, v in single.items()},
            "written": {k: [vars(r) for r in v] for k, v in written.items()},
        },
    }
    return figures, raw
