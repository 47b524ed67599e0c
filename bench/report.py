"""The report: a Markdown table for people and the README, a JSON file for tools."""

from bench.support import Figure


def to_json(about: dict, figures: list[Figure], details: dict) -> dict:
    return {
        "machine": about,
        "figures": [figure.as_dict() for figure in figures],
        "details": details,
    }


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(about: dict, figures: list[Figure]) -> str:
    lines = [
        f"Measured {about['date']} on {about['cpu']}, {about['cores']} cores, "
        f"{about['memory_gib']} GiB, Python {about['python']}, {about['system']}"
        + (f", commit {about['commit']}" if about.get("commit") else "")
        + f"; `make bench` took {about['bench_seconds']} s"
        + (" (--quick: short runs, rough figures)" if about.get("quick") else "")
        + ".",
        "",
        "| part | figure | value | ceiling, same run | ratio | target | met | notes |",
        "| --- | --- | ---: | ---: | ---: | --- | :---: | --- |",
    ]
    for f in figures:
        ceiling = f"{_number(f.ceiling)} ({f.ceiling_name})" if f.ceiling is not None else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(
            f"| {f.section} | {f.name} | {_number(f.value)} {f.unit} | {ceiling} | {ratio} | "
            f"{f.target or ''} | {met} | {f.note or ''} |"
        )
    return "\n".join(lines) + "\n"
