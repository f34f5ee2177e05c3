"""Tables for people: the terminal table after a run, and the markdown for docs/performance.md.

Owns turning results into rows (scenario, path, metric, median, ratio to direct, goal, met)
and laying them out; the numbers come from bench.results, the goals from bench.goals.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from bench.goals import GoalCheck, check_goals
from bench.paths import ABOUT, PATHS
from bench.results import Result, ordered_paths
from bench.scenarios.base import Metric

HEADER = ("scenario", "path", "metric", "median", "x direct", "goal", "met")
Row = tuple[str, str, str, str, str, str, str]


def format_value(value: float, unit: str) -> str:
    if unit in ("tps", "qps"):
        return f"{value:,.0f}"
    if unit in ("µs", "MB/s"):
        return f"{value:,.0f} {unit}"
    if unit in ("ms", "s"):
        return f"{value:.2f} {unit}"
    return f"{value:,.1f} {unit}"


def rows(result: Result, reason_width: int | None = None) -> list[Row]:
    checks = check_goals(result)
    found: list[Row] = []
    for path in ordered_paths(list(result.paths)):
        p = result.paths[path]
        mine = [c for c in checks if c.path == path]
        if p.unavailable is not None:
            reason = p.unavailable
            if reason_width and len(reason) > reason_width:
                reason = reason[: reason_width - 1] + "…"
            goal = "; ".join(dict.fromkeys(c.goal for c in mine))
            found.append(
                (
                    result.scenario,
                    path,
                    "",
                    f"unavailable: {reason}",
                    "",
                    goal,
                    "n/a" if mine else "",
                )
            )
            continue
        medians = p.summary(result.metrics)
        for metric in result.metrics:
            if metric.name not in medians:
                continue
            found.append(_row(result, path, metric, medians[metric.name], mine))
    return found


def _row(
    result: Result, path: str, metric: Metric, value: float, checks: Sequence[GoalCheck]
) -> Row:
    ratio = result.ratio(path, metric.name) if path != "direct" else None
    goals = [c for c in checks if c.metric == metric.name]
    return (
        result.scenario,
        path,
        metric.label,
        format_value(value, metric.unit),
        f"{ratio:.2f}x" if ratio is not None else "",
        "; ".join(c.goal for c in goals),
        "; ".join(c.verdict for c in goals),
    )


def machine_line(machine: dict[str, Any]) -> str:
    versions = machine.get("versions", {})
    parts = [
        f"{machine.get('cores', '?')} cores ({machine.get('cpu', '?')})",
        f"Python {machine.get('python', '?')}",
    ]
    names = {"postgres": "PostgreSQL", "pgbouncer": "PgBouncer", "mariadb": "MariaDB"}
    parts += [f"{label} {versions[key]}" for key, label in names.items() if key in versions]
    if machine.get("commit"):
        parts.append(f"iap {machine['commit']}")
    return ", ".join(parts)


def text_table(results: Sequence[Result]) -> str:
    table = [HEADER, *(r for result in results for r in rows(result, reason_width=80))]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]

    def line(row: Row) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    lines = [line(HEADER), "  ".join("-" * w for w in widths)]
    for previous, row in itertools.pairwise(table):
        if previous is not HEADER and row[0] != previous[0]:
            lines.append("")  # a blank line between scenarios
        lines.append(line(row))
    if results:
        lines.append("")
        lines.append(f"machine: {machine_line(results[0].machine)}")
    return "\n".join(lines)


def markdown(results: Sequence[Result]) -> str:
    """The table docs/performance.md shows, with the machine and dates it was measured on."""
    if not results:
        return "_No results yet: run `make bench`._\n"
    dates = sorted({r.date[:10] for r in results})
    rounds = sorted({r.rounds for r in results})
    first = machine_line(results[0].machine)
    lines = [
        f"Measured {', '.join(dates)} on {first}.",
        *(
            f"`{r.scenario}` was measured in another run, on {machine_line(r.machine)}."
            for r in results
            if machine_line(r.machine) != first
        ),
        f"Medians of {'/'.join(map(str, rounds))} interleaved round{'s' if rounds[-1] > 1 else ''}"
        "; ratios are to a direct connection measured side by side in the same run.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(" --- " for _ in HEADER) + "|",
    ]
    for result in results:
        for row in rows(result):
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines.append("")
    for result in results:
        lines.append(f"- `{result.scenario}`: {result.description}")
        lines.extend(f"  ({note})" for note in result.notes)
    lines.append("")
    shown = {path for result in results for path in result.paths}
    lines.extend(f"- **{path}**: {ABOUT[path]}" for path in PATHS if path in shown)
    return "\n".join(lines) + "\n"
