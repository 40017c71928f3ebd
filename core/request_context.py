"""Per-request values the logs carry (request id, error id, program, client): never PII."""

from __future__ import annotations

from contextvars import ContextVar

_context: ContextVar[dict[str, str] | None] = ContextVar("onboard_request_context", default=None)


def start(request_id: str) -> None:
    _context.set({"request_id": request_id})


def clear() -> None:
    _context.set(None)


def update(**values: str) -> None:
    current = _context.get()
    if current is not None:
        current.update(values)


def set_error_id(error_id: str) -> None:
    update(error_id=error_id)


def current() -> dict[str, str]:
    return dict(_context.get() or {})
