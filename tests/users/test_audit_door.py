"""Every `UserEvent` write passes through users/audit.py (issue 11): `record_event`,
`build_event` + `insert_events`. Anything hooked there (masking, webhooks) sees every event.

A source scan of the apps: outside users/audit.py no module builds a `UserEvent(...)`, writes
through `UserEvent.objects` or a user's `events` manager.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "api",
    "apidocs",
    "backoffice",
    "config",
    "core",
    "documents",
    "enumerations",
    "privacy",
    "programs",
    "risk",
    "users",
    "webhooks",
)
DOOR = ROOT / "users" / "audit.py"
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "update", "delete"}


def event_writes(tree: ast.AST) -> list[int]:
    """Line numbers of `UserEvent(...)`, `UserEvent.objects.<write>(...)` and
    `<x>.events.<write>(...)` calls."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "UserEvent":
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in WRITES:
            manager = func.value
            if isinstance(manager, ast.Attribute) and (
                manager.attr == "events"
                or (
                    manager.attr == "objects"
                    and isinstance(manager.value, ast.Name)
                    and manager.value.id == "UserEvent"
                )
            ):
                lines.append(node.lineno)
    return sorted(lines)


def test_no_user_event_is_written_outside_the_audit_module() -> None:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path == DOOR or "migrations" in path.parts:
                continue
            for line in event_writes(ast.parse(path.read_text(), str(path))):
                found.append(f"{path.relative_to(ROOT)}:{line}")
    assert found == []


def test_the_scan_finds_each_kind_of_write() -> None:
    source = (
        "UserEvent(user=u)\n"
        "UserEvent.objects.create(user=u)\n"
        "UserEvent.objects.bulk_create(rows)\n"
        "user.events.create(type='x')\n"
        "UserEvent.objects.filter(user=u).exists()\n"
    )
    assert event_writes(ast.parse(source)) == [1, 2, 3, 4]
