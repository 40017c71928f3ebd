"""Profiling the v1 create path in-process with pyinstrument (`bench/run.py --profile`).

Runs N creates through Django's test client (full middleware, auth, validation, screening,
insert, rendering) against the bench database, with and without a password, and writes:

- `bench/results/profile-<name>.txt` / `.html`: pyinstrument's call tree;
- a summary: wall time and SQL time per create, queries per create, and the project functions
  (file:function) that take the most time, cumulative and own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.scenarios import Probe, Scenario

PROJECT_DIRS = ("users/", "risk/", "core/", "enumerations/", "programs/")


def _walk(
    frame: Any, stack: tuple[str, ...], totals: dict[str, float], own: dict[str, float]
) -> None:
    if frame.function.startswith("["):  # pyinstrument's synthetic [self] / [await] frames
        return
    key = f"{_short(frame.file_path or '')}:{frame.function}"
    if key not in stack:  # count recursion once
        totals[key] += frame.time
    own[key] += frame.total_self_time
    for child in frame.children:
        _walk(child, (*stack, key), totals, own)


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/main/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def profile_scenario(
    probe: Probe, scenario: Scenario, *, count: int, name: str, results: Path
) -> dict[str, Any]:
    from pyinstrument import Profiler

    probe.request(scenario)  # warm caches outside the profile
    profiler = Profiler(interval=0.0005)
    sql_ms = 0.0
    queries = 0
    failures = 0
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        profiler.start()
        for _ in range(count):
            status, _body = probe.request(scenario)
            failures += status not in scenario.expect
        profiler.stop()
    wall = time.perf_counter() - began
    queries = len(captured)
    sql_ms = sum(float(q.get("time") or 0) for q in captured.captured_queries) * 1000

    results.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    (results / f"profile-{name}.txt").write_text(text)
    (results / f"profile-{name}.html").write_text(profiler.output_html())

    totals: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    session = profiler.last_session
    root = session.root_frame() if session else None
    if root is not None:
        _walk(root, (), totals, own)
    per = 1000 / max(count, 1)
    project = sorted(
        ((k, v) for k, v in totals.items() if k.startswith(PROJECT_DIRS)), key=lambda kv: -kv[1]
    )
    own_top = sorted(own.items(), key=lambda kv: -kv[1])
    # where the SQL time goes: statements by their first words (the table and the verb)
    by_statement: dict[str, float] = defaultdict(float)
    for query in captured.captured_queries:
        by_statement[_statement(query["sql"])] += float(query.get("time") or 0)
    statements = sorted(by_statement.items(), key=lambda kv: -kv[1])
    return {
        "name": name,
        "requests": count,
        "failures": failures,
        "wall_ms_per_request": wall * per,
        "sql_ms_per_request": sql_ms / max(count, 1),
        "queries_per_request": queries / max(count, 1),
        "top_project_cumulative_ms": [(k, v * per) for k, v in project[:15]],
        "top_own_ms": [(k, v * per) for k, v in own_top[:15]],
        "top_statements_ms": [(k, v * per) for k, v in statements[:8]],
        "files": [str(results / f"profile-{name}.txt"), str(results / f"profile-{name}.html")],
    }


def _statement(sql: str) -> str:
    """A statement's shape: its verb and the first table it names."""
    words = sql.replace('"', "").split()
    verb = words[0].upper() if words else ""
    if verb.startswith("("):
        verb = "UNION"
    table = next((w for w in words if "_" in w and "." not in w and w.isidentifier()), "")
    if not table:
        table = next((w.split(".")[0] for w in words if "." in w), "")
    return f"{verb} {table}".strip()


def summary_text(profile: dict[str, Any]) -> str:
    lines = [
        f"profile {profile['name']}: {profile['requests']} requests "
        f"({profile['failures']} unexpected answers)",
        f"  per request: {profile['wall_ms_per_request']:.1f} ms wall (profiler on), "
        f"{profile['sql_ms_per_request']:.1f} ms in SQL, "
        f"{profile['queries_per_request']:.1f} queries",
        "  project functions, cumulative ms per request:",
        *[f"    {ms:7.2f}  {name}" for name, ms in profile["top_project_cumulative_ms"]],
        "  own time, ms per request:",
        *[f"    {ms:7.2f}  {name}" for name, ms in profile["top_own_ms"]],
        "  SQL by statement (time measured by the client, ms per request):",
        *[f"    {ms:7.2f}  {name}" for name, ms in profile.get("top_statements_ms", [])],
        f"  call trees: {', '.join(profile['files'])}",
    ]
    return "\n".join(lines)
